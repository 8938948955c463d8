import { errors } from "./status";

/*
 * The three patch formats a client sends. Strategic merge patch is applied as a JSON merge patch: lists
 * are replaced whole instead of merged by key (containers by name, …), and `$patch` directives are not
 * understood. A driver that only patches maps (labels, status, operatingMode) sees no difference.
 */

export const MERGE_PATCH = "application/merge-patch+json";
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 7386. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

type Operation = { op: string; path: string; value?: unknown; from?: string };

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw errors.badRequest(`invalid JSON pointer: ${path}`);
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function parentOf(doc: unknown, parts: string[]): { parent: any; key: string } {
  let node: any = doc;
  for (const part of parts.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : undefined;
    if (node === undefined) throw errors.invalidPatch(`path /${parts.join("/")} does not exist`);
  }
  return { parent: node, key: parts[parts.length - 1]! };
}

function get(doc: unknown, path: string): unknown {
  let node: any = doc;
  for (const part of pointer(path)) {
    node = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : undefined;
    if (node === undefined) throw errors.invalidPatch(`path ${path} does not exist`);
  }
  return node;
}

function remove(doc: unknown, path: string): unknown {
  const { parent, key } = parentOf(doc, pointer(path));
  if (Array.isArray(parent)) return parent.splice(Number(key), 1)[0];
  if (!isObject(parent) || !(key in parent)) throw errors.invalidPatch(`path ${path} does not exist`);
  const value = parent[key];
  delete parent[key];
  return value;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(doc, parts);
  if (Array.isArray(parent)) parent.splice(key === "-" ? parent.length : Number(key), 0, value);
  else if (isObject(parent)) parent[key] = value;
  else throw errors.invalidPatch(`path ${path} has no parent object`);
  return doc;
}

/** RFC 6902. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw errors.badRequest("a JSON patch must be an array of operations");
  let doc = structuredClone(target);
  for (const op of operations as Operation[]) {
    switch (op.op) {
      case "add":
        doc = add(doc, op.path, structuredClone(op.value));
        break;
      case "remove":
        remove(doc, op.path);
        break;
      case "replace":
        get(doc, op.path);
        if (op.path === "") doc = structuredClone(op.value);
        else {
          remove(doc, op.path);
          doc = add(doc, op.path, structuredClone(op.value));
        }
        break;
      case "move":
        doc = add(doc, op.path, remove(doc, op.from ?? ""));
        break;
      case "copy":
        doc = add(doc, op.path, structuredClone(get(doc, op.from ?? "")));
        break;
      case "test":
        if (JSON.stringify(get(doc, op.path)) !== JSON.stringify(op.value)) {
          throw errors.invalidPatch(`testing value ${op.path} failed`);
        }
        break;
      default:
        throw errors.badRequest(`unknown JSON patch operation: ${op.op}`);
    }
  }
  return doc;
}
