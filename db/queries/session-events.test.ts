import fs from "node:fs";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase, type Database, type DbKind } from "@/db";
import { setDatabase } from "@/db/client";
import { createTestDatabase, tempDir } from "@/e2e/support/server";

import { resourceScope } from "./scope";
import { appendSessionEvents, deleteSessionRow, insertSession, listSessionEvents } from "./sessions";
import { anAgent } from "./test-support";
import { DEFAULT_WORKSPACE_ID } from "./workspaces";

/*
 * An append is one statement without a lock: two processes appending to one session at once race
 * on the (session, seq) key and the loser retries. Two clients of one PostgreSQL database stand in
 * for two Hangar processes (PGlite has one, so there the appends only interleave).
 */

const KINDS: DbKind[] = ["postgres", "pglite"];

describe.each(KINDS)("appends racing on one session (%s)", (kind) => {
  let writers: Database[] = [];
  let cleanup = async () => {};
  beforeAll(async () => {
    const dataDir = tempDir("appends");
    const pg = kind === "postgres" ? await createTestDatabase() : null;
    const first = await openDatabase({ url: pg?.url, dataDir, poolSize: 4 });
    setDatabase(first);
    writers = pg ? [first, await openDatabase({ url: pg.url, dataDir, poolSize: 4 })] : [first, first];
    cleanup = async () => {
      for (const writer of new Set(writers)) await writer.close();
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    };
    const config = {
      name: null,
      model: "test/model",
      prompt: null,
      harnessId: "opencode" as const,
      requirements: null,
      repoUrl: null,
      branch: "main",
      mcpServers: [],
      allowOut: [],
      denyOut: [],
      skills: [],
    };
    await anAgent(first.db, "ag_race");
    const session = (id: string) => ({
      id,
      workspaceId: DEFAULT_WORKSPACE_ID,
      agentId: "ag_race",
      title: null,
      supportsTui: false,
      modelTokenHash: `hash-${id}`,
      envVars: {},
      config,
      files: [],
    });
    await insertSession(session("ses_gone"), first.db);
    await insertSession(
      {
        id: "ses_race",
        workspaceId: DEFAULT_WORKSPACE_ID,
        agentId: "ag_race",
        title: null,
        supportsTui: false,
        modelTokenHash: "hash-race",
        envVars: {},
        config,
        files: [],
      },
      first.db,
    );
  }, 60_000);
  afterAll(() => cleanup());

  it("keeps seqs dense and unique, each batch contiguous and in its order, as the log reads them", async () => {
    const appends = writers.flatMap((writer, w) =>
      Array.from({ length: 40 }, (_, i) =>
        appendSessionEvents(
          "ses_race",
          Array.from({ length: 1 + (i % 3) }, (_, k) => ({ type: "assistant_delta", data: { w, i, k } })),
          kind === "postgres" ? `writer${w}` : null,
          writer.db,
        ),
      ),
    );
    const batches = await Promise.all(appends);
    const log = await listSessionEvents("ses_race", 0, 10_000, writers[0]!.db);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log).toHaveLength(batches.flat().length);
    const bySeq = new Map(log.map((e) => [e.seq, e]));
    for (const batch of batches) {
      // What the append answered is what the log holds at those seqs, at one commit time.
      for (const [k, event] of batch.entries()) {
        expect(event.seq).toBe(batch[0]!.seq + k);
        expect(event).toEqual(bySeq.get(event.seq));
      }
    }
  }, 60_000);

  it("remembers a session's scope (workspace and agent never change) and forgets it on delete", async () => {
    const scope = { workspaceId: DEFAULT_WORKSPACE_ID, agentId: "ag_race" };
    expect(await resourceScope("session", "ses_gone")).toEqual(scope);
    expect(await resourceScope("session", "ses_none")).toBeNull();
    await deleteSessionRow("ses_gone");
    expect(await resourceScope("session", "ses_gone")).toBeNull();
  });
});
