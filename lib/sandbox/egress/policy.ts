import { egressRuleKind, isHostName, isIPv4, isIPv6 } from "@/lib/schemas/egress";

/*
 * The egress decision, shared by every sandbox driver and the egress proxy. Pure: no I/O, so the
 * same table of cases can be checked here and end to end through each driver.
 *
 * Semantics (DESIGN.md "Contracts", egress):
 * - The platform's model gateway (`alwaysAllow`, exact host:port pairs) is always allowed, even over
 *   a deny rule: a session that cannot reach its model is broken, whatever the user meant.
 * - Deny wins over allow. An empty allow list means no allow rule (everything not denied may go out);
 *   a non-empty one means only what it names.
 * - `*.example.com` matches any subdomain but NOT `example.com` itself, so a rule never widens to the
 *   parent zone (`*.github.io` must not admit `github.io`); list both to allow both.
 * - Host rules and wildcards match names only; IP and CIDR rules match IP-literal targets, and deny IP
 *   and CIDR rules also match the address a name resolves to (a name is no way around a denied
 *   address). An allow CIDR does not admit a name that resolves into it: names are allowed by name.
 * - The address actually connected to must not be loopback, link-local (cloud metadata), private,
 *   CGNAT, unspecified, multicast, reserved or one of this host's own addresses, unless allow_out names
 *   it: the exact IP, a CIDR lying inside that special range (so `0.0.0.0/0` names nothing), or the
 *   exact host name. A wildcard never names an address. Naming a host exactly trusts its DNS: whatever
 *   it resolves to, private or not, is permitted. This host's own non-loopback addresses can only be
 *   named exactly (IP or host), never through a CIDR.
 * - IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is its IPv4 address everywhere, in rules and targets.
 * - Host matching is case-insensitive and ignores one trailing dot.
 */

export type IpAddress = { family: 4 | 6; value: bigint };
type Network = IpAddress & { prefix: number };

type NameRule = { kind: "host" | "wildcard"; source: string; name: string };
type NetworkRule = { kind: "network"; source: string; network: Network };
type CompiledRule = NameRule | NetworkRule;
type Endpoint = { source: string; host: string; ip: IpAddress | null; port: number };

export type EgressPolicyInput = {
  allow: readonly string[];
  deny: readonly string[];
  /** `host:port` (or `[v6]:port`) of the platform's model gateway; exact pairs, no wildcards. */
  alwaysAllow?: readonly string[];
};

export type EgressPolicy = {
  readonly allow: readonly CompiledRule[];
  readonly deny: readonly CompiledRule[];
  readonly alwaysAllow: readonly Endpoint[];
};

/** `public_address` and `named_address` come only from checkAddress; the proxy reports the name's verdict. */
export type EgressReason =
  | "always_allowed"
  | "allowed_by_rule"
  | "no_allow_list"
  | "public_address"
  | "named_address"
  | "denied_by_rule"
  | "not_in_allow_list"
  | "private_address"
  | "invalid_host"
  | "dns_failed";

/** `public_address` and `named_address` come only from checkAddress, whose caller reports the name's verdict. */
export type EgressVerdict = { allowed: boolean; reason: EgressReason; message: string; rule?: string };

export type EgressConnectionVerdict = EgressVerdict & {
  /** The permitted addresses, in resolver order: the proxy connects to these and nothing else. */
  addresses: string[];
};

export type AddressKind =
  "unspecified" | "loopback" | "link_local" | "private" | "shared" | "multicast" | "reserved" | "host";

const DESCRIBE_KIND: Record<AddressKind, string> = {
  unspecified: "an unspecified address",
  loopback: "a loopback address",
  link_local: "a link-local address",
  private: "a private address",
  shared: "a carrier-grade NAT address",
  multicast: "a multicast address",
  reserved: "a reserved address",
  host: "an address of this host",
};

// 0.0.0.0/8 is "this network": Linux connects 0.0.0.0 to the local host, so the whole block is refused.
const SPECIAL_RANGES: readonly (readonly [string, AddressKind])[] = [
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "shared"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link_local"],
  ["172.16.0.0/12", "private"],
  ["192.168.0.0/16", "private"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  // IPv4-compatible addresses (deprecated); checked after :: and ::1, which sit inside it.
  ["::/96", "reserved"],
  ["fe80::/10", "link_local"],
  ["fec0::/10", "private"],
  ["fc00::/7", "private"],
  ["ff00::/8", "multicast"],
];

const METADATA_ADDRESSES = ["169.254.169.254", "fd00:ec2::254", "100.100.100.200"];

// NAT64 (RFC 6052) carries an IPv4 address in the low 32 bits; a NAT64 gateway would reach it.
const NAT64_PREFIX = "64:ff9b::/96";

const V4_BITS = 32;
const V6_BITS = 128;
const MAPPED_HIGH = 0xffffn;

function parseRawIp(text: string): IpAddress | null {
  if (isIPv4(text)) {
    const value = text.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  if (!isIPv6(text)) return null;
  const toGroups = (half: string): number[] =>
    half === ""
      ? []
      : half.split(":").flatMap((group) => {
          if (!group.includes(".")) return [parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = "", tail] = text.split("::");
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  const groups = [...headGroups, ...zeros, ...tailGroups];
  return { family: 6, value: groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n) };
}

/** Parses an IP literal (a `%zone` suffix is ignored); IPv4-mapped IPv6 comes back as IPv4. */
export function parseIpAddress(text: string): IpAddress | null {
  const zone = text.indexOf("%");
  const raw = parseRawIp(zone >= 0 ? text.slice(0, zone) : text);
  if (raw?.family === 6 && raw.value >> 32n === MAPPED_HIGH) {
    return { family: 4, value: raw.value & 0xffffffffn };
  }
  return raw;
}

function parseNetwork(text: string): Network {
  const slash = text.indexOf("/");
  const raw = parseRawIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!raw) throw new Error(`not an IP address or CIDR range: ${text}`);
  const width = raw.family === 4 ? V4_BITS : V6_BITS;
  const prefix = slash >= 0 ? Number(text.slice(slash + 1)) : width;
  const network = { ...raw, prefix, value: maskTo(raw.value, width, prefix) };
  // A mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps, so it matches IPv4 targets.
  if (raw.family === 6 && prefix >= 96 && raw.value >> 32n === MAPPED_HIGH) {
    return { family: 4, prefix: prefix - 96, value: maskTo(raw.value & 0xffffffffn, V4_BITS, prefix - 96) };
  }
  return network;
}

function maskTo(value: bigint, width: number, prefix: number): bigint {
  const hostBits = BigInt(width - prefix);
  return (value >> hostBits) << hostBits;
}

function isInNetwork(address: IpAddress, network: Network): boolean {
  if (address.family !== network.family) return false;
  const width = address.family === 4 ? V4_BITS : V6_BITS;
  return maskTo(address.value, width, network.prefix) === network.value;
}

function isSubnetOf(inner: Network, outer: Network): boolean {
  return inner.prefix >= outer.prefix && isInNetwork(inner, outer);
}

function isSameIp(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

const SPECIAL_NETWORKS = SPECIAL_RANGES.map(([cidr, kind]) => ({ network: parseNetwork(cidr), kind }));
const METADATA_IPS = METADATA_ADDRESSES.map((text) => parseIpAddress(text) as IpAddress);
const NAT64_NETWORK = parseNetwork(NAT64_PREFIX);

type Classification = { kind: AddressKind; range: Network | null };

function classifyIp(address: IpAddress): Classification | null {
  const special = SPECIAL_NETWORKS.find(({ network }) => isInNetwork(address, network));
  if (special) return { kind: special.kind, range: special.network };
  if (isInNetwork(address, NAT64_NETWORK)) {
    const embedded = classifyIp({ family: 4, value: address.value & 0xffffffffn });
    return embedded && { kind: embedded.kind, range: null };
  }
  return null;
}

/** The special range an address falls in, or null for an ordinary public address. */
export function classifyAddress(address: string): AddressKind | null {
  const ip = parseIpAddress(address);
  return ip ? (classifyIp(ip)?.kind ?? null) : null;
}

/** Lower-cases, drops IPv6 brackets and one trailing dot: `API.GitHub.com.` → `api.github.com`. */
export function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith("[") && lower.endsWith("]")) return lower.slice(1, -1);
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

function compileRule(source: string): CompiledRule {
  const kind = egressRuleKind(source);
  if (kind === null) throw new Error(`invalid egress rule: ${source}`);
  if (kind === "ip" || kind === "cidr") return { kind: "network", source, network: parseNetwork(source) };
  const name = source.toLowerCase();
  return kind === "wildcard" ? { kind, source, name: name.slice(2) } : { kind, source, name };
}

function compileEndpoint(source: string): Endpoint {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(source) ?? /^([^:[\]]+):(\d{1,5})$/.exec(source);
  const port = Number(match?.[2]);
  const host = normalizeHost(match?.[1] ?? "");
  const ip = parseIpAddress(host);
  if (!match || port < 1 || port > 65535 || (!ip && !isHostName(host))) {
    throw new Error(`invalid alwaysAllow entry (want host:port): ${source}`);
  }
  return { source, host, ip, port };
}

/** Compiles rules once per session; throws on a rule the API schema would have rejected. */
export function compileEgressPolicy(input: EgressPolicyInput): EgressPolicy {
  return {
    allow: input.allow.map(compileRule),
    deny: input.deny.map(compileRule),
    alwaysAllow: (input.alwaysAllow ?? []).map(compileEndpoint),
  };
}

function matchesTarget(rule: CompiledRule, host: string, ip: IpAddress | null): boolean {
  if (rule.kind === "network") return ip !== null && isInNetwork(ip, rule.network);
  if (ip) return false;
  return rule.kind === "host" ? host === rule.name : host.endsWith(`.${rule.name}`);
}

function findAlwaysAllowed(policy: EgressPolicy, host: string, ip: IpAddress | null, port: number) {
  return policy.alwaysAllow.find(
    (endpoint) =>
      endpoint.port === port && (ip && endpoint.ip ? isSameIp(ip, endpoint.ip) : endpoint.host === host),
  );
}

const permit = (reason: EgressReason, message: string, rule?: string): EgressVerdict =>
  rule === undefined ? { allowed: true, reason, message } : { allowed: true, reason, message, rule };
const refuse = (reason: EgressReason, message: string, rule?: string): EgressVerdict =>
  rule === undefined ? { allowed: false, reason, message } : { allowed: false, reason, message, rule };

/** The name-level decision, made before any DNS lookup so a denied name is never even resolved. */
export function decideHost(policy: EgressPolicy, rawHost: string, port: number): EgressVerdict {
  const host = normalizeHost(rawHost);
  const ip = parseIpAddress(host);
  if (!ip && !isHostName(host)) {
    return refuse("invalid_host", `${JSON.stringify(rawHost)} is not a host name`);
  }
  const gateway = findAlwaysAllowed(policy, host, ip, port);
  if (gateway) {
    return permit("always_allowed", `${gateway.source} is the platform's model gateway`, gateway.source);
  }
  const denyRule = policy.deny.find((rule) => matchesTarget(rule, host, ip));
  if (denyRule) return refuse("denied_by_rule", `matches deny rule ${denyRule.source}`, denyRule.source);
  if (policy.allow.length === 0) {
    return permit("no_allow_list", "allow_out is empty and no deny rule matches");
  }
  const allowRule = policy.allow.find((rule) => matchesTarget(rule, host, ip));
  if (allowRule) return permit("allowed_by_rule", `matches allow rule ${allowRule.source}`, allowRule.source);
  return refuse("not_in_allow_list", `${host} is not in allow_out`);
}

export type AddressContext = {
  /** Needed to honour `alwaysAllow` host:port pairs, which name the platform gateway's address. */
  port?: number;
  /** This host's own addresses (os.networkInterfaces()); passed in to keep this module pure. */
  hostAddresses?: readonly string[];
};

/** The guard on a resolved address: the model gateway, then deny IP/CIDR rules, then the special ranges. */
export function checkAddress(
  policy: EgressPolicy,
  rawHost: string,
  address: string,
  context: AddressContext = {},
): EgressVerdict {
  const host = normalizeHost(rawHost);
  const ip = parseIpAddress(address);
  const isLiteral = parseIpAddress(host) !== null;
  const subject = isLiteral ? `${address} is` : `resolves to ${address},`;
  if (!ip) {
    return refuse("dns_failed", `${host} resolved to ${JSON.stringify(address)}, which is not an IP address`);
  }
  const gateway =
    context.port === undefined
      ? undefined
      : findAlwaysAllowed(policy, host, parseIpAddress(host), context.port);
  if (gateway) {
    return permit("always_allowed", `${gateway.source} is the platform's model gateway`, gateway.source);
  }

  const denyRule = policy.deny.find((rule) => rule.kind === "network" && isInNetwork(ip, rule.network));
  if (denyRule) {
    const message = isLiteral
      ? `matches deny rule ${denyRule.source}`
      : `resolves to ${address}, which matches deny rule ${denyRule.source}`;
    return refuse("denied_by_rule", message, denyRule.source);
  }

  let special = classifyIp(ip);
  const isOwn = (context.hostAddresses ?? []).some((own) => {
    const ownIp = parseIpAddress(own);
    return ownIp !== null && isSameIp(ownIp, ip);
  });
  if (isOwn && special?.kind !== "loopback") special = { kind: "host", range: null };
  if (!special) return permit("public_address", `${address} is a public address`);

  const naming = findNamingRule(policy, host, ip, special.range);
  if (naming) return permit("named_address", `${address} is named by ${naming}`, naming);
  const metadata = METADATA_IPS.some((meta) => isSameIp(meta, ip)) ? " (cloud metadata)" : "";
  return refuse(
    "private_address",
    `${subject} ${DESCRIBE_KIND[special.kind]}${metadata}; name it in allow_out to permit it`,
  );
}

function findNamingRule(
  policy: EgressPolicy,
  host: string,
  ip: IpAddress,
  range: Network | null,
): string | undefined {
  const hostIp = parseIpAddress(host);
  const rule = policy.allow.find((candidate) => {
    if (candidate.kind !== "network") {
      return candidate.kind === "host" && hostIp === null && candidate.name === host;
    }
    const { network } = candidate;
    if (!isInNetwork(ip, network)) return false;
    const width = network.family === 4 ? V4_BITS : V6_BITS;
    return network.prefix === width || (range !== null && isSubnetOf(network, range));
  });
  return rule?.source;
}

export type ConnectionTarget = {
  host: string;
  port: number;
  /** What the name resolved to, in resolver order; ignored for an IP-literal host. */
  addresses: readonly string[];
  hostAddresses?: readonly string[];
};

/**
 * The whole decision for one connection: the name, then every resolved address. Addresses that fail
 * the guard are dropped (a DNS answer mixing a public and a loopback address connects to the public
 * one only); when none is left, the first refusal is the answer.
 */
export function decideConnection(policy: EgressPolicy, target: ConnectionTarget): EgressConnectionVerdict {
  const host = normalizeHost(target.host);
  const hostVerdict = decideHost(policy, host, target.port);
  if (!hostVerdict.allowed) return { ...hostVerdict, addresses: [] };
  const addresses = parseIpAddress(host) ? [host] : target.addresses;
  if (addresses.length === 0) {
    return { ...refuse("dns_failed", `${host} did not resolve to any address`), addresses: [] };
  }
  const context = { port: target.port, hostAddresses: target.hostAddresses };
  const checks = addresses.map((address) => ({
    address,
    verdict: checkAddress(policy, host, address, context),
  }));
  const permitted = checks.filter(({ verdict }) => verdict.allowed).map(({ address }) => address);
  if (permitted.length > 0) return { ...hostVerdict, addresses: permitted };
  const refusal = checks[0]?.verdict ?? refuse("dns_failed", `${host} did not resolve`);
  return { ...refusal, addresses: [] };
}
