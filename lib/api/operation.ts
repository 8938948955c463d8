import type { z } from "zod";

import type { ScopedKind } from "@/db/queries/scope";

import type { Access } from "./access";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export type ResponseSpec = {
  description: string;
  /** JSON body schema; omitted for empty or non-JSON bodies. */
  schema?: z.ZodType;
  contentType?: string;
};

/** One API operation: the single description that validation, auth, audit and OpenAPI all read. */
export type Operation = {
  id: string;
  method: HttpMethod;
  /** OpenAPI-style path, e.g. /api/v1/skills/{id}. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /**
   * Who may call it: "none" (health, login, the API description), any signed-in caller, or the least
   * workspace role (viewer < operator < admin). Admin when not said, so a new route starts closed.
   */
  auth: "none" | Access;
  /** The kind of resource the path's `{id}` names: it must be in the caller's workspace and reach. */
  resource?: ScopedKind;
  /** The path itself holds a credential (an invite link's token): logs show the template only. */
  secretPath?: true;
  /** The audit action a successful call records (every state-changing operation has one). */
  audit?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** "anthropic": errors in Anthropic's envelope (the Managed Agents facade at /v1; lib/api/anthropic-errors.ts). */
  envelope?: "anthropic";
  /**
   * The body may also come as multipart/form-data (Anthropic's SDKs upload files so): fields become
   * strings, files `{filename, content}` (UTF-8 text), and `key[]` parts an array under `key`.
   */
  multipart?: true;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  responses: Record<number, ResponseSpec>;
};

export function defineOperation<const O extends Omit<Operation, "auth"> & { auth?: Operation["auth"] }>(
  op: O,
): Omit<O, "auth"> & { auth: O extends { auth: infer A } ? A : "admin" } {
  return { auth: "admin", ...op } as never;
}
