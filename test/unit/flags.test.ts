import { describe, expect, it } from "vitest";
import { reloader } from "../../runtime/commands/reloader.ts";
import { runFlags } from "../../runtime/commands/run.ts";
import { type FlagSpec, parseFlags, UsageError } from "../../runtime/flags.ts";

const specs: FlagSpec[] = [
  { names: ["s", "server"], help: "", env: ["NATS_URL"], default: "nats://127.0.0.1:4222" },
  { names: ["name"], help: "" },
  { names: ["D"], help: "", boolean: true },
  { names: ["config"], help: "", repeat: true },
];

describe("flags", () => {
  it("takes Go and GNU styles, with = or a separate value", () => {
    const { values, rest } = parseFlags(specs, ["-s", "nats://a:1", "--name=x", "-D", "--config", "a", "-config=b", "extra"], {});
    expect(values).toEqual({ s: "nats://a:1", name: "x", D: true, config: ["a", "b"] });
    expect(rest).toEqual(["extra"]);
  });

  it("falls back to env, then the default; a flag beats env", () => {
    expect(parseFlags(specs, [], { NATS_URL: "nats://env:1" }).values.s).toBe("nats://env:1");
    expect(parseFlags(specs, [], {}).values.s).toBe("nats://127.0.0.1:4222");
    expect(parseFlags(specs, ["--server", "nats://flag:1"], { NATS_URL: "nats://env:1" }).values.s).toBe("nats://flag:1");
  });

  it("explains unknown flags and missing values", () => {
    expect(() => parseFlags(specs, ["-nope"], {})).toThrow(new UsageError("unknown flag -nope: see --help"));
    expect(() => parseFlags(specs, ["-name"], {})).toThrow(/flag -name needs a value/);
  });

  it("accepts the seed leaf-controller's flags", () => {
    const { values } = parseFlags(runFlags, ["-s", "nats://x:4222", "-name", "nats", "-cm", "nats-config", "-creds", "/c", "-D"], {
      KUBERNETES_CONFIG_FILE: "/k",
      POD_NAMESPACE: "edge",
    });
    expect(values).toMatchObject({
      s: "nats://x:4222",
      name: "nats",
      cm: "nats-config",
      creds: "/c",
      D: true,
      kubeconfig: "/k",
      namespace: "edge",
    });
  });

  it("reloader -settle: a duration up to 1m, and only in file mode", async () => {
    await expect(reloader(["-config", "/nats.conf", "-settle", "soon"], {})).rejects.toThrow(
      new UsageError("-settle soon: use a duration from 0s to 1m, e.g. 150ms"),
    );
    await expect(reloader(["-config", "/nats.conf", "-settle", "2m"], {})).rejects.toThrow(/-settle 2m: use a duration/);
    await expect(reloader(["-configmap", "nats-config", "-settle", "150ms"], {})).rejects.toThrow(/-settle is for file mode/);
  });
});
