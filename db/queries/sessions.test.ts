import { expect, it } from "vitest";

import type { Tx } from "@/db";
import { NotFoundError } from "@/lib/errors";

import {
  appendSessionEvents,
  bumpTtyEpoch,
  findLiveSessionIdByModelTokenHash,
  getLiveSessionEgress,
  getSessionFiles,
  getSessionRow,
  insertSession,
  latestSessionEventSeq,
  listIdleSessions,
  listLiveSessionIdsForAgent,
  listLiveSessions,
  listSessionEvents,
  listSessionRows,
  openTurn,
  openTurnId,
  permissionPending,
  touchSession,
  updateSession,
} from "./sessions";
import { anAgent, DEFAULT_REACH, describeOnEachDatabase } from "./test-support";

async function aSession(tx: Tx, id: string, agentId = "ag_test") {
  return insertSession(
    {
      id,
      workspaceId: DEFAULT_REACH.workspaceId,
      agentId,
      title: null,
      supportsTui: true,
      modelTokenHash: `hash-${id}`,
      envVars: { K: "enc:v1:sealed" },
      config: {
        name: null,
        model: "test/model",
        prompt: null,
        harnessId: "claude-code",
        requirements: null,
        repoUrl: null,
        branch: "main",
        mcpServers: [],
        allowOut: ["example.com"],
        denyOut: [],
        skills: [],
      },
      files: [
        {
          position: 0,
          name: "a.txt",
          sandboxPath: "/workspace/a.txt",
          contentType: "text/plain",
          size: 3,
          sha256: "0".repeat(64),
          content: Buffer.from("one"),
        },
      ],
    },
    tx,
  );
}

describeOnEachDatabase((inRollback) => {
  it("inserts a creating session with its files and reads it back as a row", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx);
      const row = await aSession(tx, "ses_a");
      expect(row).toMatchObject({ status: "creating", phase: "creating_sandbox", ttyEpoch: 0 });
      expect(row.config.harnessId).toBe("claude-code");
      expect(await getSessionRow("ses_a", tx)).toEqual(row);
      expect((await getSessionFiles("ses_a", tx)).map((f) => f.content.toString())).toEqual(["one"]);
      await expect(getSessionRow("ses_none", tx)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  it("lists rows newest first, by agent and status", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx, "ag_1");
      await anAgent(tx, "ag_2");
      await aSession(tx, "ses_1", "ag_1");
      await aSession(tx, "ses_2", "ag_2");
      await updateSession("ses_2", { status: "ready" }, {}, tx);
      const all = await listSessionRows({ limit: 50, offset: 0 }, DEFAULT_REACH, tx);
      expect(all.total).toBe(2);
      expect(
        (await listSessionRows({ limit: 50, offset: 0, agent_id: "ag_1" }, DEFAULT_REACH, tx)).data.map(
          (r) => r.id,
        ),
      ).toEqual(["ses_1"]);
      expect(
        (await listSessionRows({ limit: 50, offset: 0, status: "ready" }, DEFAULT_REACH, tx)).data.map(
          (r) => r.id,
        ),
      ).toEqual(["ses_2"]);
    });
  });

  it("a late update does not revive an ended session; live queries see only live ones", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx);
      await aSession(tx, "ses_live");
      await aSession(tx, "ses_dead");
      await updateSession("ses_dead", { status: "dead", stoppedAt: new Date() }, {}, tx);
      expect(await updateSession("ses_dead", { status: "ready" }, { onlyIfLive: true }, tx)).toBeNull();
      expect((await listLiveSessions(tx)).map((r) => r.id)).toEqual(["ses_live"]);
      expect(await listLiveSessionIdsForAgent("ag_test", tx)).toEqual(["ses_live"]);
      expect(await findLiveSessionIdByModelTokenHash("hash-ses_live", tx)).toBe("ses_live");
      expect(await findLiveSessionIdByModelTokenHash("hash-ses_dead", tx)).toBeNull();
      expect(await getLiveSessionEgress("ses_live", tx)).toEqual({ allowOut: ["example.com"], denyOut: [] });
      expect(await getLiveSessionEgress("ses_dead", tx)).toBeNull();
    });
  });

  it("bumps the tty epoch and finds idle sessions by last use", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx);
      await aSession(tx, "ses_t");
      expect((await bumpTtyEpoch("ses_t", tx)).ttyEpoch).toBe(1);
      await expect(bumpTtyEpoch("ses_none", tx)).rejects.toBeInstanceOf(NotFoundError);
      expect(await listIdleSessions(new Date(Date.now() + 60_000), tx)).toEqual([{ id: "ses_t" }]);
      await touchSession("ses_t", tx);
      expect(await listIdleSessions(new Date(Date.now() - 60_000), tx)).toEqual([]);
    });
  });

  it("appends events with gapless seqs and pages them", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx);
      await aSession(tx, "ses_e");
      const first = await appendSessionEvents("ses_e", [{ type: "created", data: {} }], "tag", tx);
      const more = await appendSessionEvents(
        "ses_e",
        [
          { type: "user_message", data: { text: "hi" } },
          { type: "status", data: { status: "ready" } },
        ],
        null,
        tx,
      );
      expect([...first, ...more].map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(await latestSessionEventSeq("ses_e", tx)).toBe(3);
      const page = await listSessionEvents("ses_e", 1, 1, tx);
      expect(page.map((e) => [e.seq, e.type, e.data])).toEqual([[2, "user_message", { text: "hi" }]]);
    });
  });

  it("finds the open turn and a pending permission in the log", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx);
      await aSession(tx, "ses_o");
      expect(await openTurn("ses_o", tx)).toBeNull();
      const started = { turn_id: "turn_1", message_id: "msg_1", replica: "r1" };
      await appendSessionEvents("ses_o", [{ type: "turn_started", data: started }], null, tx);
      expect(await openTurn("ses_o", tx)).toEqual({ turnId: "turn_1", messageId: "msg_1", replica: "r1" });
      const request = { type: "permission_request", data: { permission_id: "perm_1" } };
      await appendSessionEvents("ses_o", [request], null, tx);
      expect(await permissionPending("ses_o", "perm_1", tx)).toBe(true);
      const reply = { type: "permission_reply", data: { permission_id: "perm_1" } };
      await appendSessionEvents("ses_o", [reply, { type: "turn_complete", data: {} }], null, tx);
      expect(await permissionPending("ses_o", "perm_1", tx)).toBe(false);
      expect(await openTurnId("ses_o", tx)).toBeNull();
    });
  });
});
