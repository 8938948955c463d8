import type { z } from "zod";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export type ResponseSpec = {
  description: string;
  /** JSON body schema; omitted for empty or non-JSON bodies. */
  schema?: z.ZodType;
  contentType?: string;
};

/** One API operation: the single description that validation, auth and OpenAPI all read. */
export type Operation = {
  id: string;
  method: HttpMethod;
  /** OpenAPI-style path, e.g. /api/v1/skills/{id}. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** "none" only for the health check; every other operation needs the master key. */
  auth: "master" | "none";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  responses: Record<number, ResponseSpec>;
};

export function defineOperation<const O extends Omit<Operation, "auth"> & { auth?: Operation["auth"] }>(
  op: O,
): O & { auth: Operation["auth"] } {
  return { auth: "master", ...op };
}
