import { randomUUID } from "node:crypto";

import type { z } from "zod";

import { ValidationError } from "@/lib/errors";
import { log } from "@/lib/log";
import { initRuntime } from "@/lib/runtime";
import { recordAudit } from "@/lib/teams/audit";
import { watchCredentials } from "@/lib/teams/revocation";

import { authorize } from "./access";
import { toAnthropicErrorReply } from "./anthropic-errors";
import { authenticate, type Principal } from "./auth";
import { ApiError, summarise, toErrorReply, zodIssues } from "./errors";
import type { Operation } from "./operation";
import type { RequestLike } from "./transport";

const DEFAULT_MAX_BODY = 1024 * 1024;

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export type HandlerContext<O extends Operation> = {
  req: RequestLike;
  /** The caller; null only for operations open to everyone. */
  principal: O["auth"] extends "none" ? Principal | null : Principal;
  params: Infer<O["params"]>;
  query: Infer<O["query"]>;
  body: Infer<O["body"]>;
  requestId: string;
  /** What the audit entry of this call says beyond who did what to which id; handlers may add to it. */
  audit: AuditNote;
};

/** A handler's additions to its call's audit entry (lib/teams/audit.ts says what may go in). */
export type AuditNote = {
  resourceType?: string;
  resourceId?: string;
  detail?: Record<string, unknown>;
  action?: string;
  skip?: boolean;
};

/**
 * A handler's answer: JSON (`json`), bytes (`bytes`), a stream of chunks written as they come
 * (`stream`, e.g. server-sent events), or nothing, with status and headers.
 */
export type Reply = {
  status: number;
  json?: unknown;
  bytes?: Uint8Array;
  stream?: AsyncIterable<string | Uint8Array>;
  /** An array sends the header once per value (several Set-Cookie). */
  headers?: Record<string, string | string[]>;
};

export type RawParams = Record<string, string | string[] | undefined>;
type RouteContext = { params: Promise<RawParams> };

export function json(data: unknown, status = 200, headers?: Reply["headers"]): Reply {
  return { status, json: data, headers };
}

export function noContent(headers?: Reply["headers"]): Reply {
  return { status: 204, headers };
}

export { isHttps } from "./transport";

/** A multipart/form-data body as a plain object, for the operation's zod schema to check. */
async function formBody(bytes: Buffer, contentType: string): Promise<Record<string, unknown>> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(bytes), { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new ApiError("bad_request", "request body is not valid multipart/form-data");
  }
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of form) {
    const part = typeof value === "string" ? value : { filename: value.name, content: await value.text() };
    const key = rawKey.endsWith("[]") ? rawKey.slice(0, -2) : rawKey;
    const list = out[key];
    if (rawKey.endsWith("[]") || typeof value !== "string")
      out[key] = Array.isArray(list) ? [...list, part] : [part];
    else out[key] = part;
  }
  return out;
}

async function readBody(req: RequestLike, limit: number, multipart = false): Promise<unknown> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  const tooLarge = () => new ApiError("payload_too_large", `request body is larger than ${limit} bytes`);
  if (declared > limit) throw tooLarge();
  if (!req.body) return {};
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const contentType = req.headers.get("content-type") ?? "";
  if (multipart && /^multipart\/form-data/i.test(contentType))
    return formBody(Buffer.concat(chunks), contentType);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("bad_request", "request body is not valid JSON");
  }
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = zodIssues(result.error, where === "body" ? [] : [where]);
  throw new ValidationError(summarise(issues), issues);
}

/**
 * The query string as an object: a repeated key keeps its last value, except keys in the brackets
 * form (`types[]=a&types[]=b`, as Anthropic's SDKs send arrays), which become an array under `types`.
 */
function searchOf(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (!key.endsWith("[]")) {
      out[key] = value;
      continue;
    }
    const name = key.slice(0, -2);
    const list = out[name];
    out[name] = Array.isArray(list) ? [...list, value] : [value];
  }
  return out;
}

/** Runs one operation: authenticate, validate params, query and body, call, map errors. Never throws. */
async function run<O extends Operation>(
  op: O,
  fn: (ctx: HandlerContext<O>) => Promise<Reply>,
  req: RequestLike,
  rawParams: RawParams,
): Promise<Reply> {
  const started = performance.now();
  const requestId = req.headers.get("x-request-id")?.slice(0, 64) || randomUUID();
  const queryAt = req.url.indexOf("?");
  const pathname = queryAt < 0 ? req.url : req.url.slice(0, queryAt);
  let reply: Reply;
  let principal: Principal | null = null;
  const audit: AuditNote = {};
  try {
    await initRuntime();
    principal = op.auth === "none" ? null : await authenticate(req);
    const id = typeof rawParams.id === "string" ? rawParams.id : undefined;
    if (principal && op.auth !== "none")
      await authorize(principal, op.auth, op.resource && id ? { kind: op.resource, id } : undefined);
    const params = op.params ? parseWith(op.params, rawParams, "params") : undefined;
    const search = queryAt < 0 ? {} : searchOf(req.url.slice(queryAt + 1));
    const query = op.query ? parseWith(op.query, search, "query") : undefined;
    const body = op.body
      ? parseWith(op.body, await readBody(req, op.maxBodyBytes ?? DEFAULT_MAX_BODY, op.multipart), "body")
      : undefined;
    reply = await fn({ req, principal, params, query, body, requestId, audit } as HandlerContext<O>);
    if (op.audit && principal && reply.status < 400 && !audit.skip) {
      await recordAudit({
        workspaceId: principal.workspaceId,
        actor: principal.actor,
        action: audit.action ?? op.audit,
        resourceType: audit.resourceType ?? op.resource ?? op.audit.split(".")[0],
        resourceId: audit.resourceId ?? id ?? replyId(reply),
        detail: audit.detail,
        requestId,
      });
    }
    if (reply.stream && principal) reply.stream = untilRevoked(reply.stream, principal);
  } catch (err) {
    reply =
      op.envelope === "anthropic" ? toAnthropicErrorReply(err, requestId) : toErrorReply(err, requestId);
  }
  reply.headers = { ...reply.headers, "x-request-id": requestId };
  log.info("request", {
    requestId,
    op: op.id,
    method: req.method,
    path: op.secretPath ? op.path : pathname.startsWith("http") ? new URL(pathname).pathname : pathname,
    status: reply.status,
    ms: Math.round((performance.now() - started) * 10) / 10,
  });
  return reply;
}

function replyId(reply: Reply): string | null {
  const data = reply.json as { id?: unknown } | undefined;
  return typeof data?.id === "string" ? data.id : null;
}

/** A stream that ends as soon as the credential it was opened with is revoked or expires. */
async function* untilRevoked<T>(stream: AsyncIterable<T>, principal: Principal): AsyncGenerator<T> {
  let revoked!: () => void;
  const ended = new Promise<"revoked">((resolve) => (revoked = () => resolve("revoked")));
  const unwatch = watchCredentials(principal.credentials, revoked, principal.expiresAt);
  const iterator = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), ended]);
      if (next === "revoked" || next.done) return;
      yield next.value;
    }
  } finally {
    unwatch();
    void iterator.return?.();
  }
}

export function toResponse(reply: Reply): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  if (reply.json !== undefined) {
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(reply.json), { status: reply.status, headers });
  }
  if (reply.stream) {
    const iterator = reply.stream[Symbol.asyncIterator]();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(typeof next.value === "string" ? encoder.encode(next.value) : next.value);
      },
      async cancel() {
        await iterator.return?.();
      },
    });
    return new Response(body, { status: reply.status, headers });
  }
  return new Response(reply.bytes ? new Uint8Array(reply.bytes) : null, { status: reply.status, headers });
}

export type RouteHandler = ((req: Request, route: RouteContext) => Promise<Response>) & {
  op: Operation;
  run: (req: RequestLike, params: RawParams) => Promise<Reply>;
};

/**
 * Wraps a route handler. The result is a Next route handler, and also carries the operation and a
 * framework-free `run`, which server.ts calls directly for /api/v1 requests (see the README).
 */
export function handle<O extends Operation>(
  op: O,
  fn: (ctx: HandlerContext<O>) => Promise<Reply>,
): RouteHandler {
  const direct = (req: RequestLike, params: RawParams) => run(op, fn, req, params);
  const viaNext = async (req: Request, route: RouteContext) => {
    const like: RequestLike = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body as AsyncIterable<Uint8Array> | null,
      signal: req.signal,
    };
    return toResponse(await direct(like, await route.params));
  };
  return Object.assign(viaNext, { op, run: direct });
}
