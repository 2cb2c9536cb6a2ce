import { describe, expect, it } from "vitest";
import { naturalOrder } from "../../handlers/natural-order.ts";

describe("naturalOrder", () => {
  it("orders numbered names by number", () => {
    expect(["nats-10", "nats-2", "nats-1", "nats-11", "nats-3"].sort(naturalOrder)).toEqual([
      "nats-1",
      "nats-2",
      "nats-3",
      "nats-10",
      "nats-11",
    ]);
  });

  it("orders text by code point and a prefix before the longer name", () => {
    expect(["b", "a-2", "a", "a-10", "B"].sort(naturalOrder)).toEqual(["B", "a", "a-2", "a-10", "b"]);
  });

  it("orders numbers longer than a double exactly, and leading zeros after the same value", () => {
    expect(["x99999999999999999999", "x100000000000000000000", "x007", "x7", "x08"].sort(naturalOrder)).toEqual([
      "x7",
      "x007",
      "x08",
      "x99999999999999999999",
      "x100000000000000000000",
    ]);
  });

  it("is zero only for equal strings", () => {
    expect(naturalOrder("nats-1", "nats-1")).toBe(0);
    expect(naturalOrder("", "")).toBe(0);
    expect(naturalOrder("", "a")).toBe(-1);
    expect(naturalOrder("a", "")).toBe(1);
  });
});
