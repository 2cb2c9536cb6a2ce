import { describe, expect, it } from "vitest";
import { monitorOfConfigFiles } from "../../handlers/reloader/monitor.ts";

const of = (text: string) => {
  const r = monitorOfConfigFiles({ "nats.conf": text }, "nats.conf");
  return "error" in r ? r.error.message : r.url;
};

describe("monitorUrlOf: nats-server's monitoring endpoint from its own config", () => {
  it.each([
    ["http: 8222", "http://127.0.0.1:8222"],
    ["http_port: 9000", "http://127.0.0.1:9000"],
    ["monitor_port = 9001", "http://127.0.0.1:9001"],
    ['http: "0.0.0.0:8333"', "http://127.0.0.1:8333"],
    ["http: 10.1.2.3:8444", "http://10.1.2.3:8444"],
    ["https: 8555", "https://127.0.0.1:8555"],
    ["http: 8222\nhttps_port: 8556", "https://127.0.0.1:8556"],
  ])("%s -> %s", (conf, url) => {
    expect(of(`port: 4222\n${conf}\n`)).toBe(url);
  });

  it("none when monitoring is off", () => {
    expect(of("port: 4222\n")).toBeUndefined();
    expect(of("port: 4222\nhttp_port: 0\n")).toBeUndefined();
  });
});
