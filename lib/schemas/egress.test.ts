import { describe, expect, it } from "vitest";

import { egressRuleKind } from "./egress";

describe("egress rule syntax", () => {
  it.each([
    ["github.com", "host"],
    ["localhost", "host"],
    ["a-b.c-d.io", "host"],
    ["*.github.com", "wildcard"],
    ["*.io", "wildcard"],
    ["10.1.2.3", "ip"],
    ["::1", "ip"],
    ["2001:db8::8a2e:370:7334", "ip"],
    ["::ffff:192.0.2.1", "ip"],
    ["10.0.0.0/8", "cidr"],
    ["0.0.0.0/0", "cidr"],
    ["fd00::/8", "cidr"],
  ])("%s is a %s", (rule, kind) => {
    expect(egressRuleKind(rule)).toBe(kind);
  });

  it.each([
    "",
    "*",
    "*.",
    "**.a.com",
    "a.*.com",
    "http://a.com",
    "a.com/x",
    "a.com:443",
    "-a.com",
    "a-.com",
    "a..com",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3",
    "10.0.0.0/33",
    "10.0.0.0/",
    "::1::",
    "12345::",
    "1:2:3:4:5:6:7:8:9",
    "a.com.",
    "ex ample.com",
    "x".repeat(64) + ".com",
  ])("%j is rejected", (rule) => {
    expect(egressRuleKind(rule)).toBeNull();
  });
});
