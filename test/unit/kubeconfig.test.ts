import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../runtime/kube/backoff.ts";
import { parseKubeconfig } from "../../runtime/kube/kubeconfig.ts";

const raw = (user: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  "current-context": "b",
  clusters: [{ name: "c", cluster: { server: "https://k:6443/", "certificate-authority-data": Buffer.from("CA").toString("base64") } }],
  users: [{ name: "u", user }],
  contexts: [
    { name: "a", context: { cluster: "c", user: "u" } },
    { name: "b", context: { cluster: "c", user: "u", namespace: "edge" } },
  ],
  ...extra,
});

describe("kubeconfig", () => {
  it("resolves the current context: server, CA, namespace, token", () => {
    const t = parseKubeconfig(raw({ token: "abc" }), "/dir", "test");
    expect(t).toMatchObject({ server: "https://k:6443", namespace: "edge", token: "abc", source: 'kubeconfig test, context "b"' });
    expect(t.ca?.toString()).toBe("CA");
  });

  it("takes an explicit context, and defaults the namespace", () => {
    expect(parseKubeconfig(raw({}), "/dir", "test", "a").namespace).toBe("default");
  });

  it("carries client certificates and exec plugins, and resolves relative paths", () => {
    const t = parseKubeconfig(
      raw({
        "client-certificate-data": Buffer.from("CERT").toString("base64"),
        "client-key-data": Buffer.from("KEY").toString("base64"),
        tokenFile: "tok",
        exec: { command: "./bin/auth", args: ["x"], apiVersion: "client.authentication.k8s.io/v1" },
      }),
      "/etc/kube",
      "test",
    );
    expect(t.cert?.toString()).toBe("CERT");
    expect(t.key?.toString()).toBe("KEY");
    expect(t.tokenFile).toBe("/etc/kube/tok");
    expect(t.exec).toEqual({
      command: "./bin/auth",
      args: ["x"],
      env: [],
      apiVersion: "client.authentication.k8s.io/v1",
      baseDir: "/etc/kube",
    });
  });

  it("names what is missing", () => {
    expect(() => parseKubeconfig(raw({}), "/d", "test", "zzz")).toThrow('kubeconfig test: context "zzz" not found: pick one of "a", "b"');
    expect(() => parseKubeconfig({ ...raw({}), clusters: [] }, "/d", "test")).toThrow('cluster "c" not found or has no server');
    expect(() => parseKubeconfig(raw({ "auth-provider": { name: "gcp" } }), "/d", "test")).toThrow(/auth-provider "gcp" is not supported/);
  });
});

describe("backoff", () => {
  it("doubles from the base, stays within [d/2, d] and caps", () => {
    expect(backoffDelay(0, 200, 30_000, () => 0)).toBe(100);
    expect(backoffDelay(0, 200, 30_000, () => 1)).toBe(200);
    expect(backoffDelay(3, 200, 30_000, () => 1)).toBe(1600);
    expect(backoffDelay(50, 200, 30_000, () => 1)).toBe(30_000);
  });
});
