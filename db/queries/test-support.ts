/*
 * Query tests run real statements in a transaction that is rolled back when the test ends, so tests
 * share one migrated database and leave nothing behind: a fresh PostgreSQL database (dropped after
 * the file) and a PGlite in a temporary folder, each migrated as a start would.
 */
import fs from "node:fs";

import { afterAll, beforeAll, describe } from "vitest";

import { openDatabase, type Database, type Db, type DbKind, type Tx } from "@/db";
import { createTestDatabase, tempDir } from "@/e2e/support/server";

import { insertAgent, type AgentRow } from "./agents";
import { DEFAULT_WORKSPACE_ID } from "./workspaces";

/** Everything a test makes lives in the default workspace unless it says otherwise. */
export const DEFAULT_REACH = { workspaceId: DEFAULT_WORKSPACE_ID, agentIds: null };

class RolledBack extends Error {}

export type InRollback = (work: (tx: Tx) => Promise<void>) => Promise<void>;

const KINDS: DbKind[] = ["postgres", "pglite"];

/** Declares `body`'s tests once per database kind; `inRollback` runs work in a rolled-back transaction. */
export function describeOnEachDatabase(body: (inRollback: InRollback, kind: DbKind) => void) {
  describe.each(KINDS)("on %s", (kind) => {
    let database: Database;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      const dataDir = tempDir("queries");
      const pg = kind === "postgres" ? await createTestDatabase() : null;
      database = await openDatabase({ url: pg?.url, dataDir, poolSize: 2 });
      cleanup = async () => {
        await database.close();
        await pg?.drop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      };
    });
    afterAll(() => cleanup?.());
    body(async (work) => {
      await database.db
        .transaction(async (tx) => {
          await work(tx);
          throw new RolledBack();
        })
        .catch((err: unknown) => {
          if (!(err instanceof RolledBack)) throw err;
        });
    }, kind);
  });
}

/** A minimal agent row, for tests whose rows belong to one. */
export async function anAgent(
  tx: Tx | Db,
  id = "ag_test",
  fields: Partial<AgentRow> = {},
): Promise<AgentRow> {
  return insertAgent(
    {
      id,
      name: null,
      model: "test/model",
      prompt: null,
      harnessId: "opencode",
      requirements: null,
      repoUrl: null,
      branch: "main",
      pfpUrl: null,
      mcpServers: [],
      allowOut: [],
      denyOut: [],
      envVars: {},
      workspaceId: DEFAULT_WORKSPACE_ID,
      ...fields,
    },
    tx,
  );
}
