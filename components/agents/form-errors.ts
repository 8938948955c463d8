import type { FieldErrors } from "react-hook-form";

type Node = { message?: string; root?: { message?: string } } & Record<string, unknown>;

/** The message on a field itself (not its children), wherever react-hook-form put it. */
export function ownMessage(node: unknown): string | undefined {
  const n = node as Node | undefined;
  return n?.message ?? n?.root?.message;
}

/** Child messages by key (record keys or array indexes) under one field. */
export function childMessages(node: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!node || typeof node !== "object") return out;
  for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
    if (key === "message" || key === "type" || key === "ref" || key === "root" || key === "types") continue;
    const message = ownMessage(child);
    if (message) out[key] = message;
  }
  return out;
}

/** Per-file field messages for the sandbox files editor. */
export function fileMessages(node: unknown): Record<number, Record<string, string>> {
  const out: Record<number, Record<string, string>> = {};
  if (!node || typeof node !== "object") return out;
  for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
    if (!/^\d+$/.test(key)) continue;
    const fields = childMessages(child);
    if (Object.keys(fields).length) out[Number(key)] = fields;
  }
  return out;
}

export type AnyErrors = FieldErrors<Record<string, unknown>>;
