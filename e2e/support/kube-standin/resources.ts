/*
 * The resource types the stand-in API server serves, with what discovery and error bodies say about
 * them. Only what a sandbox driver touches; everything else answers 404 like an unknown resource.
 */

export type ResourceType = {
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  /** Writes to the main resource keep the stored status; only `/status` changes it. */
  hasStatus: boolean;
  /** DELETE answers with the object (pods, custom resources) rather than a Success Status. */
  returnsDeletedObject: boolean;
  verbs: string[];
  shortNames?: string[];
  subresources?: string[];
};

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export const SANDBOX_GROUP = "agents.x-k8s.io";
export const SANDBOX_VERSION = "v1beta1";

export const RESOURCE_TYPES: ResourceType[] = [
  {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    hasStatus: true,
    returnsDeletedObject: false,
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    shortNames: ["ns"],
  },
  {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    hasStatus: true,
    returnsDeletedObject: true,
    verbs: ALL_VERBS,
    shortNames: ["po"],
    subresources: ["status", "log", "exec", "attach", "portforward"],
  },
  {
    group: "",
    version: "v1",
    plural: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    hasStatus: true,
    returnsDeletedObject: true,
    verbs: ALL_VERBS,
    shortNames: ["svc"],
    subresources: ["status"],
  },
  ...(["secrets", "configmaps", "events"] as const).map((plural): ResourceType => ({
    group: "",
    version: "v1",
    plural,
    singular: plural.slice(0, -1),
    kind: { secrets: "Secret", configmaps: "ConfigMap", events: "Event" }[plural],
    namespaced: true,
    hasStatus: false,
    returnsDeletedObject: false,
    verbs: ALL_VERBS,
    ...(plural === "configmaps" && { shortNames: ["cm"] }),
    ...(plural === "events" && { shortNames: ["ev"] }),
  })),
  {
    group: "networking.k8s.io",
    version: "v1",
    plural: "networkpolicies",
    singular: "networkpolicy",
    kind: "NetworkPolicy",
    namespaced: true,
    hasStatus: false,
    returnsDeletedObject: false,
    verbs: ALL_VERBS,
    shortNames: ["netpol"],
  },
  {
    group: SANDBOX_GROUP,
    version: SANDBOX_VERSION,
    plural: "sandboxes",
    singular: "sandbox",
    kind: "Sandbox",
    namespaced: true,
    hasStatus: true,
    returnsDeletedObject: true,
    verbs: ALL_VERBS,
    subresources: ["status"],
  },
];

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** How error messages name a resource: `pods`, `sandboxes.agents.x-k8s.io`. */
export function qualifiedName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export function typeOfKind(kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind || t.plural === kind);
}
