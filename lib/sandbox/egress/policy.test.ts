import { describe, expect, it } from "vitest";

import { EGRESS_CASES } from "@/e2e/support/egress-cases";

import {
  checkAddress,
  classifyAddress,
  compileEgressPolicy,
  decideConnection,
  decideHost,
  normalizeHost,
  parseIpAddress,
} from "./policy";

const policyOf = (allow: string[], deny: string[] = [], alwaysAllow: string[] = []) =>
  compileEgressPolicy({ allow, deny, alwaysAllow });

describe("egress cases (pure)", () => {
  it.each(EGRESS_CASES.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const policy = policyOf(c.allow, c.deny, c.alwaysAllow);
    const verdict = decideConnection(policy, { host: c.host, port: c.port, addresses: c.resolvesTo });
    expect({ allowed: verdict.allowed, reason: verdict.reason, rule: verdict.rule }).toEqual({
      allowed: c.expect === "allowed",
      reason: c.reason,
      rule: c.rule,
    });
    const literal = parseIpAddress(normalizeHost(c.host)) ? normalizeHost(c.host) : undefined;
    const expected = c.expect === "allowed" ? [c.connectsTo ?? literal ?? c.resolvesTo[0]] : [];
    expect(verdict.addresses.slice(0, 1)).toEqual(expected);
  });
});

describe("decideHost", () => {
  it("decides names without any address, so denied names are never looked up", () => {
    const policy = policyOf(["*.good.test"], ["bad.good.test"]);
    expect(decideHost(policy, "bad.good.test", 443)).toMatchObject({
      allowed: false,
      reason: "denied_by_rule",
      message: "matches deny rule bad.good.test",
    });
    expect(decideHost(policy, "elsewhere.test", 443)).toMatchObject({
      allowed: false,
      reason: "not_in_allow_list",
      message: "elsewhere.test is not in allow_out",
    });
    expect(decideHost(policy, "X.Good.Test.", 443)).toMatchObject({ allowed: true, rule: "*.good.test" });
  });

  it("lower-cases rules too", () => {
    expect(decideHost(policyOf(["*.Good.TEST"]), "a.good.test", 443)).toMatchObject({ allowed: true });
    expect(decideHost(policyOf([], ["Evil.Test"]), "EVIL.test", 443)).toMatchObject({ allowed: false });
  });

  it("refuses strings that are neither a host name nor an IP", () => {
    for (const host of ["", "a..b", "-a.test", "a b.test", "1.2.3", "2001:db8::g"]) {
      expect(decideHost(policyOf([]), host, 443).reason).toBe("invalid_host");
    }
  });

  it("matches alwaysAllow by exact host and port, IPv6 literals included", () => {
    const policy = policyOf(["github.com"], [], ["[fd00::9]:4000", "gw.test:4000"]);
    expect(decideHost(policy, "fd00::9", 4000).reason).toBe("always_allowed");
    expect(decideHost(policy, "GW.test.", 4000).reason).toBe("always_allowed");
    expect(decideHost(policy, "x.gw.test", 4000).reason).toBe("not_in_allow_list");
  });
});

describe("checkAddress", () => {
  it("explains a refusal in one line", () => {
    const policy = policyOf([]);
    expect(checkAddress(policy, "rebind.test", "127.0.0.1")).toEqual({
      allowed: false,
      reason: "private_address",
      message: "resolves to 127.0.0.1, a loopback address; name it in allow_out to permit it",
    });
    expect(checkAddress(policy, "meta.test", "169.254.169.254").message).toBe(
      "resolves to 169.254.169.254, a link-local address (cloud metadata); name it in allow_out to permit it",
    );
    expect(checkAddress(policy, "10.0.0.1", "10.0.0.1").message).toBe(
      "10.0.0.1 is a private address; name it in allow_out to permit it",
    );
    expect(checkAddress(policyOf([], ["203.0.113.0/24"]), "cdn.test", "203.0.113.5")).toEqual({
      allowed: false,
      reason: "denied_by_rule",
      message: "resolves to 203.0.113.5, which matches deny rule 203.0.113.0/24",
      rule: "203.0.113.0/24",
    });
  });

  it("treats this host's own addresses as internal, and lifts that only for an exact IP or host", () => {
    const hostAddresses = ["192.0.2.2", "fd00::2", "127.0.0.1"];
    const refused = checkAddress(policyOf(["*.test"]), "own.test", "192.0.2.2", { hostAddresses });
    expect(refused).toMatchObject({ allowed: false, reason: "private_address" });
    expect(refused.message).toBe(
      "resolves to 192.0.2.2, an address of this host; name it in allow_out to permit it",
    );
    expect(checkAddress(policyOf(["192.0.2.2"]), "own.test", "192.0.2.2", { hostAddresses }).allowed).toBe(
      true,
    );
    expect(checkAddress(policyOf(["own.test"]), "own.test", "192.0.2.2", { hostAddresses }).allowed).toBe(
      true,
    );
    expect(checkAddress(policyOf(["192.0.2.0/24"]), "own.test", "192.0.2.2", { hostAddresses }).allowed).toBe(
      false,
    );
    // A private own address needs exact naming too, not just a CIDR over the private range.
    expect(checkAddress(policyOf(["fd00::/8"]), "own.test", "fd00::2", { hostAddresses }).allowed).toBe(
      false,
    );
    expect(checkAddress(policyOf(["fd00::/8"]), "peer.test", "fd00::3", { hostAddresses }).allowed).toBe(
      true,
    );
    // Loopback stays loopback (clearer message), and a CIDR inside 127/8 names it.
    expect(checkAddress(policyOf([]), "own.test", "127.0.0.1", { hostAddresses }).message).toContain(
      "a loopback address",
    );
    expect(checkAddress(policyOf(["127.0.0.0/8"]), "x.test", "127.0.0.1", { hostAddresses }).allowed).toBe(
      true,
    );
  });

  it("names an address only with an IP, a CIDR inside its special range, or the exact host", () => {
    const check = (allow: string[], host: string, address: string) =>
      checkAddress(policyOf(allow), host, address).allowed;
    expect(check(["169.254.169.254"], "meta.test", "169.254.169.254")).toBe(true);
    expect(check(["169.254.0.0/16"], "meta.test", "169.254.169.254")).toBe(true);
    expect(check(["169.0.0.0/8"], "meta.test", "169.254.169.254")).toBe(false);
    expect(check(["*.test"], "meta.test", "169.254.169.254")).toBe(false);
    expect(check(["meta.test"], "meta.test", "169.254.169.254")).toBe(true);
    expect(check(["meta.test"], "other.test", "169.254.169.254")).toBe(false);
    expect(check(["::/0"], "v6.test", "::1")).toBe(false);
    expect(check(["fc00::/7"], "v6.test", "fd12::1")).toBe(true);
    expect(check(["::ffff:10.0.0.0/104"], "v4.test", "10.1.2.3")).toBe(true);
  });

  it("answers dns_failed for a resolver answer that is not an address", () => {
    expect(checkAddress(policyOf([]), "x.test", "not-an-ip").reason).toBe("dns_failed");
  });

  it("lets the model gateway's exact host:port through its private address and past deny CIDRs", () => {
    const policy = policyOf([], ["10.0.0.0/8"], ["llm.test:4000"]);
    expect(checkAddress(policy, "llm.test", "10.1.2.3", { port: 4000 }).reason).toBe("always_allowed");
    expect(checkAddress(policy, "llm.test", "10.1.2.3", { port: 4001 }).reason).toBe("denied_by_rule");
    expect(checkAddress(policy, "llm.test", "10.1.2.3").reason).toBe("denied_by_rule");
  });
});

describe("decideConnection", () => {
  it("keeps only the permitted addresses, in resolver order", () => {
    const verdict = decideConnection(policyOf([]), {
      host: "mixed.test",
      port: 443,
      addresses: ["198.51.100.1", "10.0.0.1", "2001:db8::1", "::1"],
    });
    expect(verdict.addresses).toEqual(["198.51.100.1", "2001:db8::1"]);
  });

  it("answers with the first refusal when no address is left", () => {
    const verdict = decideConnection(policyOf([]), {
      host: "inside.test",
      port: 443,
      addresses: ["10.0.0.1", "127.0.0.1"],
    });
    expect(verdict).toMatchObject({ allowed: false, reason: "private_address", addresses: [] });
    expect(verdict.message).toContain("10.0.0.1, a private address");
  });
});

describe("addresses", () => {
  it.each([
    ["198.51.100.7", 4, 0xc6336407n],
    ["::1", 6, 1n],
    ["::", 6, 0n],
    ["2001:db8::8a2e:370:7334", 6, 0x20010db80000000000008a2e03707334n],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", 6, 0x20010db8000000000000000000000001n],
    ["1::", 6, 1n << 112n],
    ["::ffff:127.0.0.1", 4, 0x7f000001n],
    ["::FFFF:7f00:1", 4, 0x7f000001n],
    ["64:ff9b::192.0.2.1", 6, 0x0064ff9b0000000000000000c0000201n],
    ["fe80::1%eth0", 6, 0xfe800000000000000000000000000001n],
  ])("parses %s", (text, family, value) => {
    expect(parseIpAddress(text)).toEqual({ family, value });
  });

  it.each(["", "1.2.3", "01.2.3.4", "256.1.1.1", "1:2:3:4:5:6:7:8:9", "::1::", "example.test", "[::1]"])(
    "rejects %j",
    (text) => {
      expect(parseIpAddress(text)).toBeNull();
    },
  );

  it.each([
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.255.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.15.255.255", null],
    ["192.168.1.1", "private"],
    ["192.169.0.1", null],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["100.128.0.1", null],
    ["169.254.169.254", "link_local"],
    ["224.0.0.251", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "reserved"],
    ["8.8.8.8", null],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::127.0.0.1", "reserved"],
    ["fe80::1", "link_local"],
    ["febf::1", "link_local"],
    ["fec0::1", "private"],
    ["fd00:ec2::254", "private"],
    ["fc00::1", "private"],
    ["ff02::1", "multicast"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::808:808", null],
    ["2001:4860:4860::8888", null],
  ])("classifies %s as %s", (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it("normalises hosts", () => {
    expect(normalizeHost("API.GitHub.com.")).toBe("api.github.com");
    expect(normalizeHost("[::1]")).toBe("::1");
  });
});

describe("compileEgressPolicy", () => {
  it("throws on rules the API would have rejected", () => {
    expect(() => policyOf(["a.com:443"])).toThrow(/invalid egress rule/);
    expect(() => policyOf([], ["*"])).toThrow(/invalid egress rule/);
    expect(() => policyOf([], [], ["gw.test"])).toThrow(/alwaysAllow/);
    expect(() => policyOf([], [], ["gw.test:0"])).toThrow(/alwaysAllow/);
    expect(() => policyOf([], [], ["::1:4000"])).toThrow(/alwaysAllow/);
  });
});
