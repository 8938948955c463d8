import fs from "node:fs";
import path from "node:path";
import { arch } from "node:process";

/*
 * The seccomp filter every sandboxed process runs under: a classic BPF program (the format bwrap's
 * --seccomp takes and prctl(PR_SET_SECCOMP) loads) that refuses the system calls a coding agent never
 * needs and that either reach other processes' memory or are the kernel's usual attack surface. It is
 * a deny list on top of the namespaces, not a replacement for them: the sandbox already has no
 * capabilities, no network and no way to make a user namespace. Modelled on the syscalls Docker's and
 * Firecracker's default profiles refuse.
 *
 * - reading or writing another process: ptrace, process_vm_readv/writev, kcmp;
 * - kernel keyrings, eBPF, perf events, userfaultfd, io_uring (refused with ENOSYS, so runtimes such
 *   as libuv fall back to threads), module and kexec loading, open_by_handle_at (the "shocker" escape),
 *   syslog, acct, swap, reboot, lookup_dcookie, vhangup, and on x86 iopl/ioperm/uselib;
 * - ioctl TIOCSTI and TIOCLINUX, which push keystrokes into a terminal;
 * - on x86_64, every x32 and i386 system call (another syscall table, never needed here).
 */

/** `prctl` is the loader's (seccomp-exec.pl), not the filter's: the call that loads it. */
type Table = {
  audit: number;
  x32Bit?: number;
  ioctl: number;
  prctl: number;
  eperm: number[];
  enosys: number[];
};

const TABLES: Partial<Record<NodeJS.Architecture, Table>> = {
  x64: {
    audit: 0xc000003e,
    x32Bit: 0x40000000,
    ioctl: 16,
    prctl: 157,
    // ptrace, process_vm_readv, process_vm_writev, kcmp, keyctl, add_key, request_key, bpf,
    // perf_event_open, userfaultfd, kexec_load, kexec_file_load, init_module, finit_module,
    // delete_module, open_by_handle_at, name_to_handle_at, acct, swapon, swapoff, reboot, syslog,
    // lookup_dcookie, vhangup, iopl, ioperm, uselib
    eperm: [
      101, 310, 311, 312, 250, 248, 249, 321, 298, 323, 246, 320, 175, 313, 176, 304, 303, 163, 167, 168, 169,
      103, 212, 153, 172, 173, 134,
    ],
    // io_uring_setup, io_uring_enter, io_uring_register
    enosys: [425, 426, 427],
  },
  arm64: {
    audit: 0xc00000b7,
    ioctl: 29,
    prctl: 167,
    eperm: [
      117, 270, 271, 272, 219, 217, 218, 280, 241, 282, 104, 294, 105, 273, 106, 265, 264, 89, 224, 225, 142,
      116, 18, 58,
    ],
    enosys: [425, 426, 427],
  },
};

const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

// struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 * i (low 32 bits first: little-endian).
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARG1_LOW = 24;

const LD_ABS_W = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;

/** One instruction; a jump names its targets by label, resolved when the program is assembled. */
type Insn = { code: number; k: number; jt?: string; jf?: string } | { label: string };

const ld = (offset: number): Insn => ({ code: LD_ABS_W, k: offset });
const ret = (k: number): Insn => ({ code: RET_K, k });
const jeq = (k: number, jt: string): Insn => ({ code: JEQ_K, k, jt });

/** Whether this machine's architecture has a filter (others run without one, and say so). */
export function seccompSupported(architecture: NodeJS.Architecture = arch): boolean {
  return TABLES[architecture] !== undefined;
}

function assemble(program: Insn[]): Buffer {
  const code = program.filter((i): i is Exclude<Insn, { label: string }> => !("label" in i));
  const labels = new Map<string, number>();
  let at = 0;
  for (const insn of program) {
    if ("label" in insn) labels.set(insn.label, at);
    else at++;
  }
  const offset = (label: string | undefined, from: number) => {
    if (label === undefined) return 0;
    const target = labels.get(label);
    if (target === undefined || target <= from) throw new Error(`bad seccomp jump to ${label}`);
    const distance = target - from - 1;
    if (distance > 255) throw new Error("seccomp jump out of range");
    return distance;
  };
  const out = Buffer.alloc(code.length * 8);
  code.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(offset(insn.jt, i), i * 8 + 2);
    out.writeUInt8(offset(insn.jf, i), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** The filter as bytes: 8 per instruction (u16 code, u8 jt, u8 jf, u32 k), little-endian. */
export function seccompFilter(architecture: NodeJS.Architecture = arch): Buffer {
  const table = TABLES[architecture];
  if (!table) throw new Error(`no seccomp filter for ${architecture}`);
  return assemble([
    ld(OFFSET_ARCH),
    // Another architecture's syscall table (i386 through int 0x80): refuse everything.
    jeq(table.audit, "native"),
    ret(RET_ERRNO | EPERM),
    { label: "native" },
    ld(OFFSET_NR),
    ...(table.x32Bit === undefined ? [] : [{ code: JGE_K, k: table.x32Bit, jt: "eperm" }]),
    ...table.eperm.map((nr) => jeq(nr, "eperm")),
    ...table.enosys.map((nr) => jeq(nr, "enosys")),
    jeq(table.ioctl, "ioctl"),
    ret(RET_ALLOW),
    { label: "ioctl" },
    ld(OFFSET_ARG1_LOW),
    jeq(TIOCSTI, "eperm"),
    jeq(TIOCLINUX, "eperm"),
    ret(RET_ALLOW),
    { label: "eperm" },
    ret(RET_ERRNO | EPERM),
    { label: "enosys" },
    ret(RET_ERRNO | ENOSYS),
  ]);
}

/**
 * Loads the filter, then execs its arguments: for programs Hangar starts in a running sandbox, which
 * enter it with nsenter (that cannot load one). The host's own perl (Debian's essential perl-base,
 * which starts in milliseconds where Python took a third of a second on a small VM: every exec into
 * a sandbox pays it), run with a clean environment; the sandbox can reach neither.
 */
export const SECCOMP_LOADER = path.join(process.cwd(), "lib", "sandbox", "seccomp-exec.pl");
export const HOST_PERL = "/usr/bin/perl";

/** `HOST_PERL SECCOMP_LOADER <prctl nr> <filter>`: put it before a command to run that under the filter. */
export function seccompLoader(filterFile: string, architecture: NodeJS.Architecture = arch): string[] {
  const table = TABLES[architecture];
  if (!table) throw new Error(`no seccomp filter for ${architecture}`);
  return [HOST_PERL, "--", SECCOMP_LOADER, String(table.prctl), filterFile];
}

/** Writes this machine's filter to `file` (host-only, read-only) unless it is already there as it is. */
export function writeSeccompFilter(file: string): string {
  const filter = seccompFilter();
  try {
    if (fs.readFileSync(file).equals(filter)) return file;
  } catch {
    // Not written yet.
  }
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, filter, { mode: 0o400 });
  fs.renameSync(temp, file);
  return file;
}
