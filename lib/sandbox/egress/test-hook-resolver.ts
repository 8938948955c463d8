import { lookup } from "node:dns/promises";

/**
 * A test hook, off unless HANGAR_TEST_HOSTS is set ("git.test=127.0.0.1,…"; never in production): the
 * egress proxy resolves those made-up names to loopback test servers. The private-address guard
 * still applies, so a test must name such a host in allow_out exactly as a user would. Unset, it is
 * undefined and the proxy uses the system resolver.
 */
export function testResolver(spec: string | undefined) {
  if (!spec) return undefined;
  const table = new Map(
    spec.split(",").map((pair) => pair.split("=").map((part) => part.trim()) as [string, string]),
  );
  return async (host: string) => {
    const mapped = table.get(host.toLowerCase());
    if (mapped) return [mapped];
    return (await lookup(host, { all: true })).map((a) => a.address);
  };
}
