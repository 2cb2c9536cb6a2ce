import { describe, expect, it } from "vitest";
import { leaseStep, releasedLease } from "../../handlers/operator/lease.ts";

const t = (s: number) => new Date(Date.parse("2026-12-01T10:00:00.000Z") + s * 1000).toISOString();
const held = (holder: string, renewedAt: number, transitions = 0) =>
  ({
    metadata: { name: "satellite-operator", namespace: "ns", resourceVersion: "5" },
    spec: { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: t(0), renewTime: t(renewedAt), leaseTransitions: transitions },
  }) as never;

describe("leader election by a Lease", () => {
  it("no lease: create it, holding it", () => {
    expect(leaseStep(null, "a", "satellite-operator", "ns", t(0))).toMatchObject({
      action: "create",
      leading: true,
      lease: {
        metadata: { name: "satellite-operator", namespace: "ns" },
        spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: "2026-12-01T10:00:00.000000Z" },
      },
    });
  });

  it("another's live lease: wait, and say until when", () => {
    expect(leaseStep(held("b", 0), "a", "satellite-operator", "ns", t(10))).toEqual({
      action: "wait",
      leading: false,
      holder: "b",
      expiresInMs: 5_000,
    });
  });

  it("another's lease not renewed for its duration: take it over, one more transition, on the version seen", () => {
    const s = leaseStep(held("b", 0, 2), "a", "satellite-operator", "ns", t(15));
    expect(s).toMatchObject({
      action: "update",
      tookOver: true,
      lease: {
        metadata: { resourceVersion: "5" },
        spec: { holderIdentity: "a", acquireTime: "2026-12-01T10:00:15.000000Z", leaseTransitions: 3 },
      },
    });
  });

  it("its own lease: renew it, keeping when it was acquired", () => {
    const s = leaseStep(held("a", 8, 1), "a", "satellite-operator", "ns", t(10));
    expect(s).toMatchObject({
      action: "update",
      tookOver: false,
      lease: { spec: { acquireTime: t(0), renewTime: "2026-12-01T10:00:10.000000Z", leaseTransitions: 1 } },
    });
  });

  it("released: the holder's lease given up is taken at once by another", () => {
    const released = releasedLease(held("a", 10), "a")!;
    expect(released.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    expect(leaseStep(released, "b", "satellite-operator", "ns", t(10))).toMatchObject({ action: "update", leading: true });
    expect(releasedLease(held("b", 10), "a")).toBeUndefined();
  });
});
