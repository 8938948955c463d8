# Loads Hangar's sandbox seccomp filter (lib/sandbox/seccomp.ts writes it), then execs the command:
#   python3 seccomp-exec.py FILTER.bpf COMMAND [ARG...]
# Programs started in a running sandbox (exec, terminals) enter its namespaces with nsenter, which
# cannot load a filter; this runs first, so nsenter and everything it starts inherit it, exactly as
# the sandbox's own processes inherit the one bwrap loads. Standard library only.
import ctypes
import os
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: seccomp-exec.py FILTER.bpf COMMAND [ARG...]\n")
        sys.exit(125)
    with open(sys.argv[1], "rb") as f:
        program = f.read()
    if not program or len(program) % 8:
        sys.stderr.write("hangar: the seccomp filter is malformed\n")
        sys.exit(125)
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(program, len(program))
    prog = SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(
        PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0
    ) != 0:
        sys.stderr.write("hangar: could not load the seccomp filter: %s\n" % os.strerror(ctypes.get_errno()))
        sys.exit(125)
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as err:
        sys.stderr.write("hangar: %s: %s\n" % (sys.argv[2], err.strerror))
        sys.exit(127)


main()
