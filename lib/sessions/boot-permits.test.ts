import { describe, expect, it } from "vitest";

import { BootPermits } from "./boot-permits";

describe("BootPermits", () => {
  it("lets sessions go first, tells the waiting their place, and hands free permits to the pool", async () => {
    const permits = new BootPermits(() => 2);
    let freed = 0;
    permits.freed = () => void freed++;
    const a = await permits.take(() => {});
    const refill = permits.tryTake();
    expect(refill).not.toBeNull();
    // Both permits are out: a refill gets none, sessions queue in order.
    expect(permits.tryTake()).toBeNull();
    const places: { b: [number, number][]; c: [number, number][] } = { b: [], c: [] };
    const order: string[] = [];
    const b = permits
      .take((ahead, running) => places.b.push([ahead, running]))
      .then((r) => {
        order.push("b");
        return r;
      });
    const c = permits
      .take((ahead, running) => places.c.push([ahead, running]))
      .then((r) => {
        order.push("c");
        return r;
      });
    expect(places).toEqual({ b: [[0, 2]], c: [[1, 2]] });
    // A refill may not jump the queue even once a permit is free for the first session.
    refill!();
    expect(permits.tryTake()).toBeNull();
    const releaseB = await b;
    expect(order).toEqual(["b"]);
    expect(places.c).toEqual([
      [1, 2],
      [0, 2],
    ]);
    expect(freed).toBe(0);
    // Releasing twice gives back one permit only.
    a();
    a();
    const releaseC = await c;
    expect(order).toEqual(["b", "c"]);
    expect(permits.tryTake()).toBeNull();
    releaseB();
    expect(freed).toBe(1);
    expect(permits.tryTake()).not.toBeNull();
    releaseC();
    expect(permits.queued).toBe(0);
  });

  it("reads its capacity on every call", async () => {
    let capacity = 1;
    const permits = new BootPermits(() => capacity);
    const first = permits.tryTake();
    expect(permits.tryTake()).toBeNull();
    capacity = 2;
    expect(permits.tryTake()).not.toBeNull();
    first!();
  });
});
