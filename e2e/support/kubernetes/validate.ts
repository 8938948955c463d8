/*
 * Schema validation of every object Hangar sends to Kubernetes, and of the manifests in deploy/. No
 * cluster is needed, which is the point: it is what CI can check without one.
 *
 * - Built-in kinds go through kubernetes-models (validators generated from the Kubernetes OpenAPI
 *   spec). They check types, required fields and enums, but not unknown fields: a misspelt field name
 *   passes here and is refused by the API server's strict field validation.
 * - agent-sandbox `Sandbox` (agents.x-k8s.io/v1beta1) goes through ajv over the vendored CRD's
 *   openAPIV3Schema, with unknown fields refused as the API server does for a structural schema. Ajv
 *   ignores `x-kubernetes-validations` (CEL rules), so those are not checked.
 * - CiliumNetworkPolicy goes through a small hand-written schema covering only the fields Hangar uses
 *   (see CILIUM_SCHEMA); a valid policy that uses other fields is refused until the schema learns them.
 * - Every kind: object names and label syntax, as the API server checks them.
 * An unknown apiVersion/kind is an error, never silently valid.
 */
import fs from "node:fs";
import path from "node:path";

import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import yaml from "js-yaml";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import {
  ConfigMap,
  LimitRange,
  Namespace,
  PersistentVolumeClaim,
  Pod,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-models/v1";

type Validator = (obj: Record<string, unknown>) => string[];

/** The kubernetes-models classes: constructing one and calling validate() throws with ajv errors. */
type ModelClass = new (data: never) => { validate(): void };

const MODELS: ModelClass[] = [
  Namespace,
  ServiceAccount,
  Secret,
  ConfigMap,
  Service,
  Pod,
  PersistentVolumeClaim,
  LimitRange,
  ResourceQuota,
  Deployment,
  StatefulSet,
  Job,
  NetworkPolicy,
  PodDisruptionBudget,
  Role,
  RoleBinding,
  ClusterRole,
  ClusterRoleBinding,
];

const SANDBOX_CRD = path.join(
  process.cwd(),
  "e2e",
  "support",
  "kubernetes",
  "schemas",
  "agents.x-k8s.io_sandboxes.yaml",
);

/** Kinds whose name must be a DNS-1123 label (63 characters) rather than a subdomain (253). */
const LABEL_NAMED_KINDS = new Set(["v1/Namespace", "v1/Service"]);

/** Validates one object; returns readable problems, empty when it is valid. */
export function validateKubernetesObject(obj: unknown): string[] {
  if (!isRecord(obj)) return ["not an object"];
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return ["apiVersion and kind must both be strings"];
  }
  const key = `${apiVersion}/${kind}`;
  const validator = validators().get(key);
  const where = `${kind} ${describeName(obj)}`;
  if (!validator) {
    return [`${where}: unknown apiVersion/kind ${key} (Hangar has no schema for it, so it is not accepted)`];
  }
  const problems = [...checkMetadata(obj, LABEL_NAMED_KINDS.has(key)), ...validator(obj)];
  return problems.map((p) => `${where}: ${p}`);
}

/** Every document of a multi-document YAML text (empty documents skipped). */
export function loadYamlDocuments(text: string): unknown[] {
  return yaml.loadAll(text).filter((doc) => doc !== null && doc !== undefined);
}

let cached: Map<string, Validator> | undefined;

function validators(): Map<string, Validator> {
  if (cached) return cached;
  const map = new Map<string, Validator>();
  for (const Model of MODELS) {
    const { apiVersion, kind } = Model as unknown as { apiVersion: string; kind: string };
    map.set(`${apiVersion}/${kind}`, (obj) => validateModel(Model, obj));
  }
  map.set(
    "agents.x-k8s.io/v1beta1/Sandbox",
    ajvValidator(() => sandboxSchema()),
  );
  map.set(
    "cilium.io/v2/CiliumNetworkPolicy",
    ajvValidator(() => CILIUM_SCHEMA),
  );
  cached = map;
  return map;
}

function validateModel(Model: ModelClass, obj: Record<string, unknown>): string[] {
  try {
    new Model(obj as never).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: ErrorObject[] }).errors;
    if (Array.isArray(errors)) return errors.map(formatAjvError);
    return [err instanceof Error ? err.message : String(err)];
  }
}

function ajvValidator(schema: () => object): Validator {
  let compiled: ValidateFunction | undefined;
  return (obj) => {
    compiled ??= newAjv().compile(schema());
    return compiled(obj) ? [] : (compiled.errors ?? []).map(formatAjvError);
  };
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  // The formats Kubernetes schemas use; ajv refuses unknown formats otherwise.
  ajv.addFormat("int32", {
    type: "number",
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i);
  return ajv;
}

/** The v1beta1 openAPIV3Schema of the vendored CRD, with unknown fields refused (see closeObjects). */
function sandboxSchema(): object {
  const crd = yaml.load(fs.readFileSync(SANDBOX_CRD, "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === "v1beta1");
  if (!version) throw new Error(`${SANDBOX_CRD} has no v1beta1 version`);
  return closeObjects(structuredClone(version.schema.openAPIV3Schema));
}

/**
 * A structural CRD schema drops (or, with strict field validation, refuses) fields it does not list,
 * so every object node that lists properties gets `additionalProperties: false` unless it preserves
 * unknown fields. Without this a v1alpha1 field such as `spec.replicas` would pass unnoticed.
 */
function closeObjects(node: Record<string, unknown>): Record<string, unknown> {
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.filter(isRecord).forEach(closeObjects);
    else if (isRecord(value)) closeObjects(value);
  }
  if (
    isRecord(node.properties) &&
    node.additionalProperties === undefined &&
    node["x-kubernetes-preserve-unknown-fields"] !== true
  ) {
    node.additionalProperties = false;
  }
  return node;
}

function formatAjvError(e: ErrorObject): string {
  const at = e.instancePath === "" ? "(root)" : e.instancePath;
  const params = e.params as Record<string, unknown>;
  if (e.keyword === "enum") {
    return `${at} ${e.message ?? "is not allowed"} (${(params.allowedValues as unknown[]).join(", ")})`;
  }
  if (e.keyword === "additionalProperties") {
    return `${at} has unknown field "${String(params.additionalProperty)}"`;
  }
  return `${at} ${e.message ?? e.keyword}`;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Names, namespaces and labels, as the API server checks them for every kind. */
function checkMetadata(obj: Record<string, unknown>, nameIsLabel: boolean): string[] {
  const meta = obj.metadata;
  if (!isRecord(meta)) return ["/metadata is required"];
  const problems: string[] = [];
  const { name, namespace, labels } = meta;
  if (typeof name === "string") {
    const ok = nameIsLabel
      ? name.length <= 63 && DNS1123_LABEL.test(name)
      : name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
    if (!ok)
      problems.push(`/metadata/name "${name}" is not a DNS-1123 ${nameIsLabel ? "label" : "subdomain"}`);
  } else if (typeof meta.generateName !== "string") {
    problems.push("/metadata/name is required");
  }
  if (namespace !== undefined && (typeof namespace !== "string" || !DNS1123_LABEL.test(namespace))) {
    problems.push(`/metadata/namespace "${String(namespace)}" is not a DNS-1123 label`);
  }
  if (labels !== undefined) {
    if (!isRecord(labels)) return [...problems, "/metadata/labels must be an object"];
    for (const [key, value] of Object.entries(labels)) {
      if (!isLabelKey(key)) problems.push(`/metadata/labels key "${key}" is not a valid label key`);
      if (typeof value !== "string" || value.length > 63 || !LABEL_VALUE.test(value)) {
        problems.push(`/metadata/labels/${key} value "${String(value)}" is not a valid label value`);
      }
    }
  }
  return problems;
}

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

function describeName(obj: Record<string, unknown>): string {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : "(unnamed)";
  return typeof meta.namespace === "string" ? `${meta.namespace}/${name}` : name;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/*
 * CiliumNetworkPolicy (cilium.io/v2), hand-written and minimal: the fields of deploy/cilium/ and of a
 * per-session `toFQDNs` allow list. Cilium's own CRD schema is far larger; it is not vendored.
 */
const selector = {
  type: "object",
  additionalProperties: false,
  properties: {
    matchLabels: { type: "object", additionalProperties: { type: "string" } },
    matchExpressions: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["key", "operator"],
        properties: {
          key: { type: "string" },
          operator: { enum: ["In", "NotIn", "Exists", "DoesNotExist"] },
          values: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
};
const fqdnSelector = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    matchName: { type: "string", pattern: "^[-a-zA-Z0-9_.]+$" },
    matchPattern: { type: "string", pattern: "^[-a-zA-Z0-9_.*]+$" },
  },
};
const portRule = {
  type: "object",
  additionalProperties: false,
  properties: {
    ports: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["port"],
        properties: {
          port: {
            type: "string",
            pattern: "^(6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]?\\d{1,4})$",
          },
          protocol: { enum: ["TCP", "UDP", "SCTP", "ICMP", "ICMPv6", "ANY"] },
        },
      },
    },
    rules: {
      type: "object",
      additionalProperties: false,
      properties: { dns: { type: "array", items: fqdnSelector } },
    },
  },
};
const entities = {
  type: "array",
  items: {
    enum: [
      "all",
      "world",
      "world-ipv4",
      "world-ipv6",
      "cluster",
      "host",
      "remote-node",
      "kube-apiserver",
      "ingress",
      "health",
      "init",
      "unmanaged",
      "none",
    ],
  },
};
const egressRule = {
  type: "object",
  additionalProperties: false,
  properties: {
    toEndpoints: { type: "array", items: selector },
    toEntities: entities,
    toFQDNs: { type: "array", items: fqdnSelector },
    toCIDR: { type: "array", items: { type: "string" } },
    toPorts: { type: "array", items: portRule },
  },
};
const ingressRule = {
  type: "object",
  additionalProperties: false,
  properties: {
    fromEndpoints: { type: "array", items: selector },
    fromEntities: entities,
    toPorts: { type: "array", items: portRule },
  },
};
const CILIUM_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  additionalProperties: false,
  properties: {
    apiVersion: { const: "cilium.io/v2" },
    kind: { const: "CiliumNetworkPolicy" },
    metadata: { type: "object" },
    spec: {
      type: "object",
      additionalProperties: false,
      required: ["endpointSelector"],
      properties: {
        description: { type: "string" },
        endpointSelector: selector,
        egress: { type: "array", items: egressRule },
        ingress: { type: "array", items: ingressRule },
        enableDefaultDeny: {
          type: "object",
          additionalProperties: false,
          properties: { egress: { type: "boolean" }, ingress: { type: "boolean" } },
        },
      },
    },
  },
};
