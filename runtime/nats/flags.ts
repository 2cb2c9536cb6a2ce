import type { FlagSpec, FlagValues } from "../flags.ts";
import type { NatsAuthOptions } from "./connect.ts";

export const natsFlags: FlagSpec[] = [
  { names: ["s", "server"], arg: "URLS", help: "NATS server URLs, comma-separated", env: ["NATS_URL"], default: "nats://127.0.0.1:4222" },
  { names: ["creds"], arg: "FILE", help: "NATS credentials file (user JWT and nkey seed)", env: ["NATS_CREDS"] },
  { names: ["nkey"], arg: "FILE", help: "NATS nkey seed file", env: ["NATS_NKEY"] },
  { names: ["user"], arg: "USER", help: "NATS user name", env: ["NATS_USER"] },
  { names: ["password"], arg: "PASS", help: "NATS password", env: ["NATS_PASSWORD"] },
  { names: ["token"], arg: "TOKEN", help: "NATS authentication token", env: ["NATS_TOKEN"] },
  { names: ["tlscert"], arg: "FILE", help: "client certificate for NATS TLS", env: ["NATS_CERT"] },
  { names: ["tlskey"], arg: "FILE", help: "client private key for NATS TLS", env: ["NATS_KEY"] },
  { names: ["tlsca"], arg: "FILE", help: "CA certificate that signed the NATS server's certificate", env: ["NATS_CA"] },
  {
    names: ["tlsname"],
    arg: "NAMES",
    help: "comma-separated names the server's certificate may be for, instead of the URL's host (e.g. nats.prod.svc when connecting to 127.0.0.1 or a pod IP)",
  },
];

export function natsOptionsFrom(f: FlagValues, name: string): NatsAuthOptions {
  const str = (k: string) => (f[k] as string | undefined) || undefined;
  return {
    servers: String(f.s)
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    name,
    creds: str("creds"),
    nkey: str("nkey"),
    user: str("user"),
    password: str("password"),
    token: str("token"),
    tlsCert: str("tlscert"),
    tlsKey: str("tlskey"),
    tlsCa: str("tlsca"),
    ...(str("tlsname")
      ? {
          tlsNames: str("tlsname")!
            .split(",")
            .map((n) => n.trim())
            .filter(Boolean),
        }
      : {}),
  };
}
