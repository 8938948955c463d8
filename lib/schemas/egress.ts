import { z } from "zod";

/*
 * Egress rule syntax, shared by the API, the forms and the egress proxy: an exact host
 * (`api.github.com`), a wildcard suffix (`*.github.com`), an IP address (v4 or v6) or a CIDR range.
 * Pure functions only: this file is imported by browser code.
 */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isHostName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split(".");
  if (!labels.every((label) => LABEL.test(label))) return false;
  // A name made only of digits and dots is an (invalid) IPv4 address, not a host.
  return !/^[0-9.]+$/.test(value);
}

export function isIPv4(value: string): boolean {
  const parts = value.split(".");
  return (
    parts.length === 4 && parts.every((part) => /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255)
  );
}

export function isIPv6(value: string): boolean {
  if (value.length < 2 || value.length > 45) return false;
  const halves = value.split("::");
  if (halves.length > 2) return false;
  const groupsOf = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  const all = [...head, ...tail];
  let width = 0;
  for (const [i, group] of all.entries()) {
    const isLast = i === all.length - 1;
    if (isLast && group.includes(".")) {
      if (!isIPv4(group)) return false;
      width += 2;
    } else if (/^[0-9a-f]{1,4}$/i.test(group)) {
      width += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? width < 8 : width === 8;
}

export function isIP(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}

export function isCidr(value: string): boolean {
  const slash = value.lastIndexOf("/");
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bits)) return false;
  if (isIPv4(address)) return Number(bits) <= 32;
  if (isIPv6(address)) return Number(bits) <= 128;
  return false;
}

export type EgressRuleKind = "host" | "wildcard" | "ip" | "cidr";

/** Classifies an egress rule, or returns null when it is none of the accepted forms. */
export function egressRuleKind(value: string): EgressRuleKind | null {
  if (isCidr(value)) return "cidr";
  if (isIP(value)) return "ip";
  if (value.startsWith("*.")) return isHostName(value.slice(2)) ? "wildcard" : null;
  return isHostName(value) ? "host" : null;
}

export const EGRESS_RULES_MAX = 200;

export const egressRuleSchema = z
  .string()
  .max(253)
  .refine((value) => egressRuleKind(value) !== null, {
    error: (issue) =>
      `"${String(issue.input)}" is not a host (example.com), wildcard (*.example.com), IP address or CIDR range (10.0.0.0/8)`,
  });

export const egressRulesSchema = z.array(egressRuleSchema).max(EGRESS_RULES_MAX);
