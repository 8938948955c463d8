import { createHash } from "node:crypto";

import { expect, it } from "vitest";

import { NotFoundError, ValidationError } from "@/lib/errors";

import {
  deleteAgent,
  getAgentFile,
  getAgentRecord,
  insertAgentFiles,
  listAgentRows,
  lockAgent,
  readAgentForSession,
  replaceAgentFiles,
  updateAgentRow,
} from "./agents";
import { anAgent, DEFAULT_REACH, describeOnEachDatabase } from "./test-support";

const file = (name: string, text: string) => ({
  name,
  sandbox_path: `/workspace/${name}`,
  content_type: "text/plain",
  size: text.length,
  content: Buffer.from(text).toString("base64"),
});

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

describeOnEachDatabase((inRollback) => {
  it("inserts, reads and lists rows, env vars as stored", async () => {
    await inRollback(async (tx) => {
      const row = await anAgent(tx, "ag_a", { name: "alpha", envVars: { K: "enc:v1:sealed" } });
      expect(row).toMatchObject({ id: "ag_a", harnessId: "opencode", version: 1 });
      await anAgent(tx, "ag_b", { name: "beta" });
      const { row: read, files } = await getAgentRecord("ag_a", tx);
      expect(read.envVars).toEqual({ K: "enc:v1:sealed" });
      expect(files).toEqual([]);
      const page = await listAgentRows(
        { limit: 1, offset: 0, sort: "name", order: "asc", search: undefined },
        DEFAULT_REACH,
        tx,
      );
      expect(page).toMatchObject({ total: 2, limit: 1, offset: 0 });
      expect(page.data.map((r) => [r.row.id, r.sessionCount, r.hasActiveSession])).toEqual([
        ["ag_a", 0, false],
      ]);
      const found = await listAgentRows(
        { limit: 50, offset: 0, sort: "created_at", order: "desc", search: "bet" },
        DEFAULT_REACH,
        tx,
      );
      expect(found.data.map((r) => r.row.id)).toEqual(["ag_b"]);
    });
  });

  it("stores files in order and serves their bytes by index", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx, "ag_f");
      const meta = await insertAgentFiles("ag_f", [file("a.txt", "one"), file("b.txt", "two")], tx);
      expect(meta.map((m) => [m.index, m.name, m.sha256])).toEqual([
        [0, "a.txt", sha("one")],
        [1, "b.txt", sha("two")],
      ]);
      expect((await getAgentRecord("ag_f", tx)).files).toEqual(meta);
      expect((await getAgentFile("ag_f", 1, tx)).content.toString()).toBe("two");
      await expect(getAgentFile("ag_f", 2, tx)).rejects.toThrow(/no file at index 2/);
      await expect(getAgentFile("ag_none", 0, tx)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  it("replaces files, keeping stored bytes by sha256 and refusing unknown ones", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx, "ag_r");
      await insertAgentFiles("ag_r", [file("a.txt", "one")], tx);
      const { content: _content, ...kept } = { ...file("kept.txt", "one"), sha256: sha("one") };
      const meta = await replaceAgentFiles("ag_r", [file("new.txt", "fresh"), kept], tx);
      expect(meta.map((m) => [m.name, m.size])).toEqual([
        ["new.txt", 5],
        ["kept.txt", 3],
      ]);
      expect((await getAgentFile("ag_r", 1, tx)).content.toString()).toBe("one");
      const unknown = { ...kept, sha256: sha("never stored") };
      await expect(replaceAgentFiles("ag_r", [unknown], tx)).rejects.toBeInstanceOf(ValidationError);
    });
  });

  it("updates and locks a row; unknown ids are NotFoundError", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx, "ag_u");
      const updated = await updateAgentRow("ag_u", { prompt: "hello", version: 2 }, tx);
      expect(updated).toMatchObject({ prompt: "hello", version: 2 });
      expect((await lockAgent("ag_u", tx)).row.prompt).toBe("hello");
      await expect(updateAgentRow("ag_none", { version: 2 }, tx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(lockAgent("ag_none", tx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(getAgentRecord("ag_none", tx)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  it("reads an agent for a session with its files' bytes, env vars still sealed", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx, "ag_s", { envVars: { K: "enc:v1:sealed" } });
      await insertAgentFiles("ag_s", [file("a.txt", "one")], tx);
      const { row, files } = await readAgentForSession("ag_s", tx);
      expect(row.envVars).toEqual({ K: "enc:v1:sealed" });
      expect(files.map((f) => f.content.toString())).toEqual(["one"]);
      await expect(readAgentForSession("ag_none", tx)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  it("deletes a row once", async () => {
    await inRollback(async (tx) => {
      await anAgent(tx, "ag_d");
      await deleteAgent("ag_d", tx);
      await expect(deleteAgent("ag_d", tx)).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
