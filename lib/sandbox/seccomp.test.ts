import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { asProcessEnv, findExecutable } from "./drivers/procs";
import { seccompFilter, seccompLoader, seccompSupported } from "./seccomp";

// The probe is Python (ctypes reaches any system call); the loader under test is seccomp-exec.pl.
const PYTHON = "/usr/bin/python3";

// Each probe prints "name errno" (0 when the call went through).
const PROBE = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
calls = {"ptrace": (101, 0, 0, 0, 0), "process_vm_readv": (310, 1, 0, 0, 0, 0, 0), "keyctl": (250, 0, 0),
         "bpf": (321, 0, 0, 0), "io_uring_setup": (425, 1, 0), "getpid": (39,), "x32_getpid": (0x40000000 + 39,)}
for name, args in calls.items():
    ctypes.set_errno(0)
    r = libc.syscall(*args)
    print(name, ctypes.get_errno() if r < 0 else 0)
import fcntl, termios, pty
master, slave = pty.openpty()
try:
    fcntl.ioctl(slave, termios.TIOCSTI, b"x"); print("TIOCSTI 0")
except OSError as e: print("TIOCSTI", e.errno)
fcntl.ioctl(slave, termios.TIOCGWINSZ, b"\\0" * 8); print("TIOCGWINSZ 0")
`;

function parse(out: string): Record<string, number> {
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .map(([name, errno]) => [name!, Number(errno)]),
  );
}

const EXPECTED = {
  ptrace: 1,
  process_vm_readv: 1,
  keyctl: 1,
  bpf: 1,
  io_uring_setup: 38,
  getpid: 0,
  x32_getpid: 1,
  TIOCSTI: 1,
  TIOCGWINSZ: 0,
};

const bwrap = findExecutable("bwrap");
const supported = seccompSupported() && process.arch === "x64" && fs.existsSync(PYTHON);

describe.skipIf(!supported)("the sandbox seccomp filter (real kernel)", () => {
  let dir = "";
  let filter = "";
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-seccomp-"));
    filter = path.join(dir, "filter.bpf");
    fs.writeFileSync(filter, seccompFilter());
    fs.writeFileSync(path.join(dir, "probe.py"), PROBE);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("without a filter, the probes go through (so the assertions below mean something)", () => {
    const out = parse(execFileSync(PYTHON, [path.join(dir, "probe.py")], { encoding: "utf8" }));
    expect(out.keyctl).not.toBe(1);
    expect(out.getpid).toBe(0);
    expect(out.TIOCSTI).toBe(0);
  });

  it("the loader refuses what the filter lists and lets everything else through", () => {
    const [loader, ...args] = seccompLoader(filter);
    const out = execFileSync(loader!, [...args, PYTHON, path.join(dir, "probe.py")], {
      encoding: "utf8",
      env: asProcessEnv({ PATH: "/usr/bin:/bin" }),
    });
    expect(parse(out)).toEqual(EXPECTED);
  });

  it.skipIf(!bwrap)("bwrap --seccomp applies the same filter to the sandbox's processes", () => {
    const out = execFileSync(
      "/bin/sh",
      [
        "-c",
        `exec ${bwrap} --unshare-user --unshare-pid --ro-bind / / --dev /dev --proc /proc --seccomp 5 -- ${PYTHON} ${dir}/probe.py 5<${filter}`,
      ],
      { encoding: "utf8" },
    );
    expect(parse(out)).toEqual(EXPECTED);
  });

  it("ordinary programs run under it: node, git, sh", () => {
    const [loader, ...args] = seccompLoader(filter);
    const run = (argv: string[]) =>
      execFileSync(loader!, [...args, ...argv], {
        encoding: "utf8",
        env: asProcessEnv({ PATH: "/usr/bin:/bin" }),
      }).trim();
    expect(
      run([process.execPath, "-e", "require('fs').readFileSync('/etc/hostname'); console.log('ok')"]),
    ).toBe("ok");
    expect(run(["git", "--version"])).toMatch(/^git version/);
    expect(run(["/bin/sh", "-c", "echo $((6 * 7))"])).toBe("42");
  });

  it("a malformed or missing filter stops the loader before the command runs; a missing command is 127", () => {
    fs.writeFileSync(path.join(dir, "bad.bpf"), Buffer.alloc(5));
    const marker = path.join(dir, "ran");
    const status = (filterFile: string, argv: string[]) => {
      const [loader, ...args] = seccompLoader(filterFile);
      try {
        execFileSync(loader!, [...args, ...argv], { stdio: "pipe" });
        return 0;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    expect(status(path.join(dir, "bad.bpf"), ["/usr/bin/touch", marker])).toBe(125);
    expect(status(path.join(dir, "absent.bpf"), ["/usr/bin/touch", marker])).toBe(125);
    expect(fs.existsSync(marker)).toBe(false);
    expect(status(filter, ["/no/such/program"])).toBe(127);
  });
});

describe("the filter program", () => {
  it("is whole instructions, starts by checking the architecture and ends in a return", () => {
    for (const architecture of ["x64", "arm64"] as const) {
      const program = seccompFilter(architecture);
      expect(program.length % 8).toBe(0);
      expect(program.readUInt16LE(0)).toBe(0x20);
      expect(program.readUInt32LE(4)).toBe(4);
      expect(program.readUInt16LE(program.length - 8)).toBe(0x06);
    }
    expect(() => seccompFilter("ia32")).toThrow(/no seccomp filter/);
  });
});
