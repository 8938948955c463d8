import "server-only";

import { randomUUID } from "node:crypto";

import type { z } from "zod";

import { log } from "@/lib/log";
import { initRuntime } from "@/lib/runtime";

import { authenticate, type Principal } from "./auth";
import { ApiError, toErrorResponse, ValidationError, zodIssues, summarise } from "./errors";
import type { Operation } from "./operation";

const DEFAULT_MAX_BODY = 1024 * 1024;

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export type HandlerContext<O extends Operation> = {
  req: Request;
  principal: Principal | null;
  params: Infer<O["params"]>;
  query: Infer<O["query"]>;
  body: Infer<O["body"]>;
  requestId: string;
};

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

export function json(data: unknown, status = 200): Response {
  return Response.json(data, { status });
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

async function readBody(req: Request, limit: number): Promise<unknown> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  const tooLarge = () => new ApiError("payload_too_large", `request body is larger than ${limit} bytes`);
  if (declared > limit) throw tooLarge();
  if (!req.body) return {};
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
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
 * Wraps a route handler: authenticates, validates params, query and body against the operation's
 * schemas, and turns every thrown error into the error envelope.
 */
export function handle<O extends Operation>(op: O, fn: (ctx: HandlerContext<O>) => Promise<Response>) {
  return async (req: Request, route: RouteContext): Promise<Response> => {
    const started = performance.now();
    const requestId = req.headers.get("x-request-id")?.slice(0, 64) || randomUUID();
    let response: Response;
    try {
      await initRuntime();
      const principal = op.auth === "none" ? null : authenticate(req);
      const url = new URL(req.url);
      const params = op.params ? parseWith(op.params, await route.params, "params") : undefined;
      const query = op.query ? parseWith(op.query, Object.fromEntries(url.searchParams), "query") : undefined;
      const body = op.body
        ? parseWith(op.body, await readBody(req, op.maxBodyBytes ?? DEFAULT_MAX_BODY), "body")
        : undefined;
      response = await fn({ req, principal, params, query, body, requestId } as HandlerContext<O>);
    } catch (err) {
      response = toErrorResponse(err, requestId);
    }
    response.headers.set("x-request-id", requestId);
    log.info("request", {
      requestId,
      op: op.id,
      method: req.method,
      path: new URL(req.url).pathname,
      status: response.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
    return response;
  };
}
