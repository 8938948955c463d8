# Loads Hangar's sandbox seccomp filter (lib/sandbox/seccomp.ts writes it), then execs the command:
#   perl seccomp-exec.pl PRCTL_NR FILTER.bpf COMMAND [ARG...]
# Programs started in a running sandbox (exec, terminals) enter its namespaces with nsenter, which
# cannot load a filter; this runs first, so nsenter and everything it starts inherit it, exactly as
# the sandbox's own processes inherit the one bwrap loads. Perl, not Python: Debian's essential
# perl-base starts in a few milliseconds, and every exec into a sandbox (a warm sandbox's bind, a
# command ready check) pays this start. Core perl only; PRCTL_NR is prctl(2)'s number on this
# architecture (seccomp.ts passes it).
use strict;
use warnings;

use constant { PR_SET_NO_NEW_PRIVS => 38, PR_SET_SECCOMP => 22, SECCOMP_MODE_FILTER => 2 };

my ($nr, $file, @cmd) = @ARGV;
if (!defined $file || !@cmd || $nr !~ /^\d+$/) {
    print STDERR "usage: seccomp-exec.pl PRCTL_NR FILTER.bpf COMMAND [ARG...]\n";
    exit 125;
}
open(my $fh, "<:raw", $file) or do { print STDERR "hangar: the seccomp filter: $!\n"; exit 125 };
my $program = do { local $/; <$fh> };
close $fh;
if (!defined $program || length($program) == 0 || length($program) % 8) {
    print STDERR "hangar: the seccomp filter is malformed\n";
    exit 125;
}
# struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the pointer is $program's own
# buffer, which stays alive and unchanged until exec.
my $fprog = pack("S x![J] J", length($program) / 8, unpack("J", pack("p", $program)));
if (syscall($nr + 0, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
    || syscall($nr + 0, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, $fprog, 0, 0) != 0) {
    print STDERR "hangar: could not load the seccomp filter: $!\n";
    exit 125;
}
{
    no warnings "exec";
    exec { $cmd[0] } @cmd;
}
print STDERR "hangar: $cmd[0]: $!\n";
exit 127;
