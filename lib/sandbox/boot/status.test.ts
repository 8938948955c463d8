import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { parseStatusLine, STATUS_LINE_MAX, STATUS_READ_MAX, STATUS_TEXT_MAX, StatusReader } from "./status";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-boot-status-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => path.join(dir, `status-${n++}.jsonl`);
const line = (o: object) => JSON.stringify(o) + "\n";

describe("StatusReader", () => {
  it("returns complete lines only, and the rest once its newline arrives", async () => {
    const f = file();
    fs.writeFileSync(f, line({ type: "phase", phase: "cloning_repo" }) + '{"type":"rea');
    const reader = new StatusReader(f);
    expect(await reader.read()).toEqual([{ type: "phase", phase: "cloning_repo" }]);
    expect(await reader.read()).toEqual([]);
    fs.appendFileSync(f, 'dy"}\n');
    expect(await reader.read()).toEqual([{ type: "ready" }]);
  });

  it("reads at most STATUS_READ_MAX per call and says when more is left", async () => {
    const f = file();
    const one = line({ type: "phase", phase: "installing_deps", detail: "x".repeat(100) });
    const count = Math.ceil((3 * STATUS_READ_MAX) / one.length);
    fs.writeFileSync(f, one.repeat(count));
    const reader = new StatusReader(f);
    let total = 0;
    let calls = 0;
    do {
      total += (await reader.read()).length;
      calls++;
    } while (reader.more);
    expect(total).toBe(count);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it("drops a line past the length cap whole, and goes on with the next", async () => {
    const f = file();
    fs.writeFileSync(f, "x".repeat(STATUS_LINE_MAX * 5));
    const reader = new StatusReader(f);
    while ((await reader.read()).length > 0 || reader.more) {
      /* drain */
    }
    fs.appendFileSync(f, `${"y".repeat(100)}\n` + line({ type: "ready" }));
    expect(await reader.read()).toEqual([{ type: "ready" }]);
  });

  it("starts over when the file shrank (a mirror rebuilt it)", async () => {
    const f = file();
    fs.writeFileSync(f, line({ type: "phase", phase: "a" }).repeat(10));
    const reader = new StatusReader(f);
    expect(await reader.read()).toHaveLength(10);
    fs.writeFileSync(f, line({ type: "ready" }));
    expect(await reader.read()).toEqual([{ type: "ready" }]);
  });

  it("never follows a link and never blocks on a FIFO; a missing file is no lines", async () => {
    const target = file();
    fs.writeFileSync(target, line({ type: "ready" }));
    const link = file();
    fs.symlinkSync(target, link);
    expect(await new StatusReader(link).read()).toEqual([]);
    const fifo = file();
    execFileSync("mkfifo", [fifo]);
    const t0 = Date.now();
    expect(await new StatusReader(fifo).read()).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await new StatusReader(file()).read()).toEqual([]);
    expect(await StatusReader.end(fifo)).toBe(0);
    expect(await StatusReader.end(target)).toBe(fs.statSync(target).size);
  });
});

describe("parseStatusLine", () => {
  it("keeps known types and fields, clips text, refuses the rest", () => {
    expect(parseStatusLine('{"type":"failed","reason":"pip failed","extra":{"a":1}}')).toEqual({
      type: "failed",
      reason: "pip failed",
    });
    const long = parseStatusLine(JSON.stringify({ type: "failed", reason: "r".repeat(10_000) }));
    expect(long?.reason?.length).toBe(STATUS_TEXT_MAX + 1);
    expect(parseStatusLine('{"type":"phase","phase":"<script>"}')).toEqual({ type: "phase" });
    for (const bad of ["", "null", "[]", '"ready"', '{"type":"launch_missiles"}', '{"type":1}', "{"]) {
      expect(parseStatusLine(bad), bad).toBeNull();
    }
  });
});
