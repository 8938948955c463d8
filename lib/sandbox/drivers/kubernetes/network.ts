import dns from "node:dns/promises";
import net from "node:net";

import type * as k8s from "@kubernetes/client-node";

import { log } from "@/lib/log";

import { SandboxError } from "../../types";
import { explain } from "./api";

/*
 * The sandbox pods' network as the Kubernetes driver sees it: whether the namespace's NetworkPolicies
 * hold them to the gateway (preflight), and the gateway's address, which pods get in /etc/hosts since
 * they have no DNS.
 */

/** `<service>.<namespace>.svc[.<cluster domain>]`: a Service whose ClusterIP the API server knows. */
const SERVICE_HOST =
  /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.svc(?:\.[a-z0-9.-]+)?$/;

/**
 * Whether a NetworkPolicy makes egress default-deny for pods with these labels (an Egress policy type
 * selecting them; a selector with expressions is taken as selecting, the cluster decides).
 */
function restrictsEgress(policy: k8s.V1NetworkPolicy, labels: Record<string, string>): boolean {
  const spec = policy.spec;
  if (!spec?.policyTypes?.includes("Egress")) return false;
  const wanted = spec.podSelector?.matchLabels ?? {};
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

/** A NetworkPolicy port that includes DNS: 53 (or a range over it), or kube-dns's port names. */
function coversDns(port: k8s.V1NetworkPolicyPort): boolean {
  if (typeof port.port === "string") return ["53", "dns", "dns-tcp"].includes(port.port);
  return port.port !== undefined && port.port <= 53 && 53 <= (port.endPort ?? port.port);
}

/**
 * What an egress rule of a policy selecting these pods opens beyond the gateway: any destination (no
 * `to`), or port 53, through which name lookups would carry data to whoever serves a domain.
 */
function looseEgress(policy: k8s.V1NetworkPolicy, labels: Record<string, string>): string[] {
  const spec = policy.spec;
  if (!spec?.policyTypes?.includes("Egress")) return [];
  const wanted = spec.podSelector?.matchLabels ?? {};
  if (!Object.entries(wanted).every(([key, value]) => labels[key] === value)) return [];
  const name = policy.metadata?.name ?? "(unnamed)";
  return (spec.egress ?? []).flatMap((rule) => {
    if (!rule.to?.length) return [`NetworkPolicy ${name} lets sandbox pods reach any destination`];
    if (rule.ports?.some(coversDns))
      return [`NetworkPolicy ${name} lets sandbox pods reach DNS (port 53): lookups can carry data out`];
    return [];
  });
}

/**
 * What the namespace's policies leave open for pods with the sandbox labels: no default-deny of
 * egress (so pods could go around the gateway, whose rules are then not enforced), and rules that
 * open more than the gateway.
 */
export function egressProblems(
  policies: k8s.V1NetworkPolicy[],
  labels: Record<string, string>,
  namespace: string,
): string[] {
  const problems: string[] = [];
  if (!policies.some((p) => restrictsEgress(p, labels))) {
    problems.push(
      `no NetworkPolicy in ${namespace} restricts egress from sandbox pods: they could bypass the egress proxy (apply deploy/network-policies.yaml)`,
    );
  }
  problems.push(...policies.flatMap((p) => looseEgress(p, labels)));
  return problems;
}

/** Where sandbox pods find the gateway, read again at each launch (a recreated Service gets a new ClusterIP). */
export class GatewayAddress {
  private warnedService = false;

  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly host: string,
  ) {}

  /**
   * The pods' /etc/hosts entry for the gateway; none when the configured host is an IP. Sandboxes
   * resolve nothing else.
   */
  async alias(): Promise<{ ip: string; hostnames: string[] } | undefined> {
    if (net.isIP(this.host)) return undefined;
    return { ip: await this.ip(this.host), hostnames: [this.host] };
  }

  /**
   * A Service name's ClusterIP from the API server (the web Role may read that one Service); any
   * other name, or a Service this process may not read, as this process's resolver answers it.
   */
  private async ip(host: string): Promise<string> {
    const service = SERVICE_HOST.exec(host);
    if (service) {
      const [, name, namespace] = service as unknown as [string, string, string];
      try {
        const found = await this.core.readNamespacedService({ name, namespace });
        const ip = found.spec?.clusterIP;
        if (ip && net.isIP(ip)) return ip;
        throw new SandboxError(
          "launch_failed",
          `the gateway Service ${namespace}/${name} has no ClusterIP: sandboxes need one fixed address for it`,
        );
      } catch (err) {
        if (err instanceof SandboxError) throw err;
        if (!this.warnedService) {
          this.warnedService = true;
          log.warn("gateway Service not readable; resolving its name instead", {
            service: `${namespace}/${name}`,
            error: explain(err),
          });
        }
      }
    }
    try {
      return (await dns.lookup(host)).address;
    } catch (err) {
      throw new SandboxError(
        "launch_failed",
        `the gateway ${host} has no address (HANGAR_K8S_GATEWAY_HOST): ${explain(err)}`,
      );
    }
  }
}
