const enc = new TextEncoder();
const ok = ["nats://a:6222", "nats://b:6222"];

/** Payloads that config.put must refuse: each is invalid by construction, none by chance. */
const families: ((i: number) => string | Uint8Array)[] = [
  // Not JSON, or not an object.
  (i) => `{"routes": ["nats://a:6222"]${",".repeat(1 + (i % 3))}}`,
  (i) => `{"routes": [${"[".repeat((i % 7) + 1)}`,
  (i) => ["", " ", "nul", "NaN", "{'routes': []}", "routes=nats://a:6222", "\u0000", "}{"][i % 8]!,
  (i) => ["[]", "null", "true", "42", '"routes"', `[${JSON.stringify({ routes: ok })}]`][i % 6]!,
  (i) => new Uint8Array([0x7b, 0x22, 0xc3 + (i % 4), 0x28, 0x22, 0x7d]),
  // Keys nats-server would act on, or that pollute objects.
  (i) =>
    JSON.stringify({
      routes: ok,
      [["include", "tls", "authorization", "leafnodes", "port", "listen", "accounts", "cluster", "pid_file", "Routes", "NAME", "routes "][
        i % 12
      ]!]: "x",
    }),
  (i) => `{"routes": [], "__proto__": {"polluted": ${i}}}`,
  (i) => `{"routes": [], "constructor": {"prototype": {"x": ${i}}}}`,
  // Bad names, including config injection.
  (i) =>
    JSON.stringify({
      name: ["", " ", "a b", 'x\n}\ninclude "/etc/passwd"', "a.b", "ü", "a".repeat(65 + i), "$VAR", 'a"b', "a{b"][i % 10],
      routes: ok,
    }),
  (i) => JSON.stringify({ name: [1, true, null, [], {}][i % 5], routes: ok }),
  // Bad route lists and URLs.
  (i) => JSON.stringify({ routes: [[null, 1, {}, `nats://a:6222${"\n".repeat((i % 2) + 1)}`, "", []][i % 6]] }),
  (i) =>
    JSON.stringify({
      routes: [`${["http", "https", "tls", "ws", "wss", "file", "javascript", "nats-leaf", "mqtt", "ftp"][i % 10]}://host:6222`],
    }),
  (i) =>
    JSON.stringify({
      routes: [
        [
          "nats://host",
          "nats://host:",
          "nats://:6222",
          `nats://host:${65536 + i}`,
          "nats://host:0",
          "nats://host:-1",
          "nats://host:6222/x",
          "nats://host:6222?a",
          "nats://host:6222#a",
          "nats//host:6222",
        ][i % 10],
      ],
    }),
  (i) =>
    JSON.stringify({
      routes: [
        [
          "nats://ho st:6222",
          'nats://host":6222',
          "nats://h\nost:6222",
          "nats://hö st:6222",
          "nats://a_b:6222",
          "nats://-a:6222",
          "nats://a-:6222",
          "nats://999.1.1.1:6222",
          "nats://[zz::1]:6222",
          "nats://a..b:6222",
        ][i % 10],
      ],
    }),
  (i) => JSON.stringify({ routes: [`nats://${['u"', "u p", "u\n", "u{", "u}", "u$x", "u'", "u\\"][i % 8]}:pw@host:6222`] }),
  (i) => JSON.stringify({ routes: [`nats://${"a".repeat(520 + i)}:6222`] }),
  (i) => JSON.stringify({ routes: [`nats://dup-${i}:6222`, `nats-route://DUP-${i}:6222`] }),
  (i) => JSON.stringify({ routes: Array.from({ length: 257 + i }, (_, k) => `nats://h${k}:6222`) }),
  (i) => JSON.stringify({ routes: `nats://a:${6222 + i}` }),
  // Bad revisions, and missing routes.
  (i) => JSON.stringify({ routes: ok, revision: ["", " ", "1 2", -1, 1.5, {}, [], true, "x".repeat(65)][i % 9] }),
  (i) => JSON.stringify({ name: `N${i}` }),
  // Oversize: 1 MB.
  (i) => JSON.stringify({ routes: ok, name: "x".repeat(1_000_000 - 50 - (i % 10)) }),
];

export function hostilePayloads(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; out.length < n; i++) {
    const family = families[i % families.length]!;
    const p = family(Math.floor(i / families.length));
    out.push(typeof p === "string" ? enc.encode(p) : p);
  }
  return out;
}
