import { expect, it } from "vitest";

import { pingDatabase } from "./health";
import { whileHoldingLock } from "./locks";
import { describeOnEachDatabase } from "./test-support";

describeOnEachDatabase((inRollback, kind) => {
  it("runs the work while holding the named lock", async () => {
    await inRollback(async (tx) => {
      let ran = 0;
      expect(await whileHoldingLock("hangar:test", async () => void ran++, tx, kind)).toBe(true);
      expect(ran).toBe(1);
    });
  });

  it("answers a ping", async () => {
    await inRollback(async (tx) => {
      expect(await pingDatabase(tx)).toBe(true);
    });
  });
});
