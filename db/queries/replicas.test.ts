import { expect, it } from "vitest";

import { beat, forgetReplicasBefore, replicasSeenSince } from "./replicas";
import { describeOnEachDatabase } from "./test-support";

describeOnEachDatabase((inRollback) => {
  it("records heartbeats and forgets replicas long gone", async () => {
    await inRollback(async (tx) => {
      const now = Date.now();
      await beat("old", new Date(now - 60_000), tx);
      await beat("new", new Date(now), tx);
      await beat("old", new Date(now - 30_000), tx);
      expect(await replicasSeenSince(new Date(now - 45_000), tx)).toEqual(new Set(["old", "new"]));
      await forgetReplicasBefore(new Date(now - 1000), tx);
      expect(await replicasSeenSince(new Date(0), tx)).toEqual(new Set(["new"]));
    });
  });
});
