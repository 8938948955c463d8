import type { EgressReason } from "@/lib/sandbox/egress/policy";

/** One row of the egress acceptance table (./index.ts). */
export type EgressCase = {
  name: string;
  allow: string[];
  deny: string[];
  alwaysAllow?: string[];
  host: string;
  port: number;
  /** What the test resolver answers for `host`, in order; [] means the lookup fails. Unused for IP literals. */
  resolvesTo: string[];
  expect: "allowed" | "denied";
  reason: EgressReason;
  rule?: string;
  /** Where the gateway must connect; defaults to the first of resolvesTo, or the IP literal itself. */
  connectsTo?: string;
};

/** An address that stands in for the public internet (TEST-NET-2): not special to the guard. */
export const PUBLIC = "198.51.100.10";
