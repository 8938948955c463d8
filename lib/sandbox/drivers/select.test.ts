import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { LocalDriver } from "./local";
import { ProcessDriver } from "./process";
import { chooseSandboxDriver, selectSandboxDriver } from "./select";

describe("selectSandboxDriver", () => {
  let dir: string;
  let withBwrap: string;
  let without: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-select-test-"));
    withBwrap = path.join(dir, "with");
    without = path.join(dir, "without");
    fs.mkdirSync(withBwrap);
    fs.mkdirSync(without);
    fs.writeFileSync(path.join(withBwrap, "bwrap"), "#!/bin/sh\n", { mode: 0o755 });
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  const root = "/srv/hangar/sessions";

  it("defaults to local when bwrap is on PATH", () => {
    expect(chooseSandboxDriver({ PATH: withBwrap })).toEqual({
      name: "local",
      reason: "bwrap found on PATH",
    });
    expect(selectSandboxDriver({ root }, { PATH: withBwrap })).toBeInstanceOf(LocalDriver);
  });

  it("falls back to process with a loud warning when bwrap is missing", () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const driver = selectSandboxDriver({ root }, { PATH: without });
    expect(driver).toBeInstanceOf(ProcessDriver);
    expect(driver.isolation).toBe("none");
    const line = JSON.parse(String(stderr.mock.calls[0]?.[0]));
    expect(line).toMatchObject({ level: "warn", reason: "bwrap not found on PATH" });
    expect(line.msg).toMatch(/NO ISOLATION/);
  });

  it("honours HANGAR_SANDBOX_DRIVER", () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(
      selectSandboxDriver({ root }, { PATH: withBwrap, HANGAR_SANDBOX_DRIVER: "process" }),
    ).toBeInstanceOf(ProcessDriver);
    expect(selectSandboxDriver({ root }, { PATH: withBwrap, HANGAR_SANDBOX_DRIVER: "local" })).toBeInstanceOf(
      LocalDriver,
    );
  });

  it("refuses an explicit local driver without bwrap, and unknown names", () => {
    expect(() => chooseSandboxDriver({ PATH: without, HANGAR_SANDBOX_DRIVER: "local" })).toThrow(
      /bubblewrap/,
    );
    expect(() => chooseSandboxDriver({ PATH: withBwrap, HANGAR_SANDBOX_DRIVER: "docker" })).toThrow(
      /"local", "process" or "kubernetes"/,
    );
  });
});
