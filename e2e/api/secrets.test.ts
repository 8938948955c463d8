import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import postgres from "postgres";
import { describe, expect, inject, it } from "vitest";

import { SECRET_MASK } from "@/lib/schemas/env-vars";

import { AGENTS, api, createSkill } from "../support/api";

describe("secrets are write-only", () => {
  it("a canary env value never appears in a response, the log or the database in plaintext", async () => {
    const canary = `canary-${crypto.randomUUID()}`;
    const seen: string[] = [];
    const call = async (method: string, p: string, body?: unknown) => {
      const res = await api(method, p, { body });
      seen.push(res.text, JSON.stringify([...res.headers]));
      return res;
    };
    const skill = await createSkill();
    const created = await call("POST", AGENTS, {
      model: "m/x",
      env_vars: { CANARY_SECRET: canary, OTHER: canary + "-2" },
      skill_ids: [skill.id],
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body.env_vars).toEqual({ CANARY_SECRET: SECRET_MASK, OTHER: SECRET_MASK });
    await call("GET", `${AGENTS}/${id}`);
    await call("GET", `${AGENTS}?search=${id}`);
    await call("GET", `${AGENTS}?limit=200`);
    await call("PATCH", `${AGENTS}/${id}`, {
      env_vars: { CANARY_SECRET: SECRET_MASK, OTHER: canary + "-3" },
    });
    await call("PATCH", `${AGENTS}/${id}`, { name: "renamed" });
    await call("POST", `${AGENTS}/${id}/skill`, { name: "s", content: "c" });
    await call("DELETE", `${AGENTS}/${id}/skill`);
    // A failed validation must not echo the value either.
    await call("PATCH", `${AGENTS}/${id}`, { env_vars: { "BAD-KEY": canary } });
    await call("POST", AGENTS, { model: "bad model", env_vars: { GIT_TOKEN: canary } });
    for (const text of seen) expect(text).not.toContain(canary);

    // The server log.
    await new Promise((r) => setTimeout(r, 200));
    expect(fs.readFileSync(inject("logFile"), "utf8")).not.toContain(canary);

    // The database, read raw: PostgreSQL rows as text, or every byte of the PGlite data folder.
    if (inject("dbChoice") === "postgres") {
      const sql = postgres(inject("databaseUrl") as string, { max: 1 });
      const rows = await sql`select a::text as row from agents a where id = ${id}`;
      await sql.end();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.row).not.toContain(canary);
      expect(rows[0]?.row).toContain("enc:v1:");
    } else {
      const dir = path.join(inject("dataDir"), "pglite");
      const grep = (needle: string) => spawnSync("grep", ["-rlaF", needle, dir], { encoding: "utf8" });
      // The check means something only if the rows reached the files: the id must be there.
      expect(grep(id).status, "agent id not found on disk").toBe(0);
      const hits = grep(canary);
      expect(hits.stdout).toBe("");
      expect(hits.status).toBe(1);
    }
  });
});
