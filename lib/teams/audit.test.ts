import fs from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { auditDiff } from "./audit";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SOURCE_DIRS = ["app", "lib", "db", "bin", "scripts", "server.ts", "components", "bench"];

function sources(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return [full];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name === "migrations") return [];
    const child = path.join(entry, e.name);
    if (e.isDirectory()) return sources(child);
    return /\.(ts|tsx|mjs|js|sql)$/.test(e.name) && !/\.test\.ts$/.test(e.name)
      ? [path.join(ROOT, child)]
      : [];
  });
}

describe("the audit log is append-only in code", () => {
  it("no source updates, deletes or truncates it (drizzle or SQL)", () => {
    const files = SOURCE_DIRS.flatMap(sources);
    expect(files.length).toBeGreaterThan(100);
    const offenders: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, "utf8");
      const patterns = [
        /\.(update|delete)\(\s*auditEvents\b/,
        /\b(update|delete\s+from|truncate(\s+table)?)\s+"?audit_events"?/i,
      ];
      for (const pattern of patterns)
        if (pattern.test(text)) offenders.push(`${path.relative(ROOT, file)} ${pattern}`);
    }
    expect(offenders).toEqual([]);
  });

  it("the query module has exactly two statements: append and read", () => {
    const text = fs.readFileSync(path.join(ROOT, "db/queries/audit.ts"), "utf8");
    const statements = [...text.matchAll(/\bdb\s*\.\s*(insert|select|update|delete|execute)\b/g)].map(
      (m) => m[1],
    );
    expect(statements).toEqual(["insert", "select"]);
  });
});

describe("auditDiff", () => {
  it("reports changed fields with before and after, and never a secret's value", () => {
    const diff = auditDiff(
      { name: "a", prompt: "old", same: [1], token: "s3cret-before" },
      { name: "b", prompt: "old", same: [1], token: "s3cret-after", added: true },
      ["token"],
    );
    expect(diff).toEqual({ name: { from: "a", to: "b" }, added: { from: null, to: true } });
    expect(JSON.stringify(diff)).not.toContain("s3cret");
  });
});
