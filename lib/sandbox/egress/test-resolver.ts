import { lookup } from "node:dns/promises";

/**
 * Test-only name resolution for the egress gateway (HANGAR_TEST_HOSTS="git.test=127.0.0.1,…"):
 * made-up names map to loopback test servers. The private-address guard still applies, so a test must
 * name such a host in allow_out exactly as a user would.
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
