import { SandboxError } from "../types";
import { findExecutable } from "./procs";

/*
 * bwrap's --disable-userns nests the sandbox's user namespace inside the one that owns its other
 * namespaces. Root may enter those from the host; any other user needs to be in that outer namespace
 * first (it owns it, so it may), which nsenter 2.38 cannot do (--user-parent came in 2.39). This perl
 * (Debian's essential perl-base) joins it with NS_GET_PARENT + setns and execs nsenter.
 */
export const SETNS_SYSCALL: Partial<Record<NodeJS.Architecture, number>> = { x64: 308, arm64: 268 };
const JOIN_OUTER_USERNS = [
  "my ($nr, $pid, @cmd) = @ARGV;",
  'open(my $ns, "<", "/proc/$pid/ns/user") or die "hangar: /proc/$pid/ns/user: $!\n";',
  'my $fd = ioctl($ns, 0xb702, 0) or die "hangar: NS_GET_PARENT: $!\n";',
  'syscall($nr, $fd + 0, 0x10000000) == 0 or die "hangar: setns: $!\n";',
  'exec { $cmd[0] } @cmd or die "hangar: exec $cmd[0]: $!\n";',
].join("\n");

/** What goes before nsenter to enter a sandbox: nothing for root, the perl above for anyone else. */
export function outerUserNamespace(initPid: number): string[] {
  if (process.getuid?.() === 0) return [];
  const nr = SETNS_SYSCALL[process.arch];
  if (nr === undefined)
    throw new SandboxError("unavailable", `exec as non-root is not supported on ${process.arch}`);
  return [findExecutable("perl") ?? "perl", "-e", JOIN_OUTER_USERNS, "--", String(nr), String(initPid)];
}
