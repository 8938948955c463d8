import { sql } from "drizzle-orm";
import { expect, it } from "vitest";

import { appendAudit, readAudit } from "./audit";
import { describeOnEachDatabase } from "./test-support";
import { DEFAULT_WORKSPACE_ID } from "./workspaces";

const entry = (action: string) => ({
  workspaceId: DEFAULT_WORKSPACE_ID,
  actorKind: "master",
  actorId: null,
  actorLabel: "master key",
  action,
  resourceType: "agent",
  resourceId: `agt_${action}`,
  detail: {},
  requestId: null,
});

describeOnEachDatabase((inRollback) => {
  it("appends, reads in order with cursor pages and filters", async () => {
    await inRollback(async (tx) => {
      for (const action of ["agent.create", "agent.update", "skill.create", "agent.delete"]) {
        await appendAudit(entry(action), tx);
      }
      const first = await readAudit(DEFAULT_WORKSPACE_ID, { limit: 3 }, tx);
      expect(first.data.map((r) => r.action)).toEqual(["agent.create", "agent.update", "skill.create"]);
      const rest = await readAudit(DEFAULT_WORKSPACE_ID, { limit: 3, cursor: first.nextCursor! }, tx);
      expect(rest.data.map((r) => r.action)).toEqual(["agent.delete"]);
      expect(rest.nextCursor).toBeNull();
      const agents = await readAudit(DEFAULT_WORKSPACE_ID, { limit: 10, action: "agent." }, tx);
      expect(agents.data.map((r) => r.action)).toEqual(["agent.create", "agent.update", "agent.delete"]);
      const one = await readAudit(DEFAULT_WORKSPACE_ID, { limit: 10, resource: "agt_skill.create" }, tx);
      expect(one.data.map((r) => r.action)).toEqual(["skill.create"]);
      expect((await readAudit("ws_other", { limit: 10 }, tx)).data).toEqual([]);
    });
  });

  it("the database itself refuses UPDATE, DELETE and TRUNCATE of an entry", async () => {
    await inRollback(async (tx) => {
      await appendAudit(entry("agent.create"), tx);
      for (const statement of [
        sql`update audit_events set action = 'forged'`,
        sql`delete from audit_events`,
        sql`truncate audit_events`,
      ]) {
        // Each attempt in its own savepoint, so the refusal does not end the test's transaction.
        const refused = await tx
          .transaction((inner) => inner.execute(statement))
          .then(
            () => null,
            (err: Error & { cause?: Error }) => err.cause?.message ?? err.message,
          );
        expect(refused).toMatch(/audit_events is append-only/);
      }
      const kept = await readAudit(DEFAULT_WORKSPACE_ID, { limit: 10 }, tx);
      expect(kept.data.map((r) => r.action)).toEqual(["agent.create"]);
    });
  });
});
