import { ADDRESS_CASES } from "./addresses";
import type { EgressCase } from "./case";
import { RULE_CASES } from "./rules";

/*
 * The egress acceptance table, shared by the policy's unit test, the proxy's socket test and every
 * sandbox driver's integration test, so all of them prove the same behaviour.
 *
 * Made-up `.test` names are mapped by a test resolver (`resolvesTo`). Addresses in 198.51.100.0/24 and
 * 203.0.113.0/24 (TEST-NET-2/3) stand in for the public internet: they are not special to the guard.
 */

export type { EgressCase } from "./case";

/** Every case, in the order the tests report them. */
export const EGRESS_CASES: readonly EgressCase[] = [...RULE_CASES, ...ADDRESS_CASES];

/** `host:port` as a CONNECT target or URL authority, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
