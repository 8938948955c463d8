/*
 * Upgrading a database made before teams: migration 0007 moves every agent, skill and session into
 * the default workspace and loses nothing. The database is migrated to 0006 first (a copy of the
 * migrations folder with the journal cut there), filled, then opened as a start would open it.
 */
import fs from "node:fs";
import path from "node:path";

import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { describe, expect, it } from "vitest";

import { tempDir } from "@/e2e/support/server";

import { openDatabase } from ".";

const MIGRATIONS = path.join(import.meta.dirname, "migrations");

function migrationsUpTo(tag: string): string {
  const dir = tempDir("migrations");
  fs.cpSync(MIGRATIONS, dir, { recursive: true });
  const journalFile = path.join(dir, "meta", "_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalFile, "utf8")) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((e) => e.tag === tag);
  journal.entries = journal.entries.slice(0, cut + 1);
  fs.writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

describe("migration 0007 (teams)", () => {
  it("puts what existed into the default workspace, losing nothing", async () => {
    const dataDir = tempDir("upgrade");
    const client = await PGlite.create(path.join(dataDir, "pglite"));
    await migrate(drizzle(client), { migrationsFolder: migrationsUpTo("0006_add_tty_epoch") });
    await client.exec(`
      insert into agents (id, name, model) values ('agt_old', 'before teams', 'm/x');
      insert into skills (id, name, content) values ('skl_old', 'old skill', 'Do it.');
      insert into skill_versions (skill_id, version, name, content) values ('skl_old', 1, 'old skill', 'Do it.');
      insert into sessions (id, agent_id, config, model_token_hash) values ('sess_old', 'agt_old', '{}', 'h');
      insert into session_events (session_id, seq, type, data) values ('sess_old', 1, 'created', '{}');
      insert into browser_sessions (id, expires_at) values ('bs_old', now() + interval '1 hour');
    `);
    await client.close();

    const database = await openDatabase({ url: undefined, dataDir, poolSize: 1 });
    try {
      const rows = async (query: ReturnType<typeof sql>) =>
        ((await database.db.execute(query)) as unknown as { rows: Record<string, unknown>[] }).rows;
      expect(await rows(sql`select id, name from workspaces`)).toEqual([
        { id: "ws_default", name: "Default" },
      ]);
      expect(await rows(sql`select id, workspace_id, name from agents`)).toEqual([
        { id: "agt_old", workspace_id: "ws_default", name: "before teams" },
      ]);
      expect(await rows(sql`select id, workspace_id from skills`)).toEqual([
        { id: "skl_old", workspace_id: "ws_default" },
      ]);
      expect(await rows(sql`select id, workspace_id, agent_id from sessions`)).toEqual([
        { id: "sess_old", workspace_id: "ws_default", agent_id: "agt_old" },
      ]);
      expect(await rows(sql`select count(*)::int as n from session_events`)).toEqual([{ n: 1 }]);
      expect(await rows(sql`select count(*)::int as n from skill_versions`)).toEqual([{ n: 1 }]);
      // A login from before teams is the master key's (no user) and still valid.
      expect(await rows(sql`select id, user_id from browser_sessions`)).toEqual([
        { id: "bs_old", user_id: null },
      ]);
    } finally {
      await database.close();
    }
  });
});
