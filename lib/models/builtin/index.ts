import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable, Transform } from "node:stream";
import zlib from "node:zlib";

import {
  BUILTIN_MODEL_BODY_MAX,
  BUILTIN_MODEL_IN_FLIGHT,
  BUILTIN_MODEL_IN_FLIGHT_PER_SESSION,
  InFlightLimit,
} from "@/lib/bounds";
import { log } from "@/lib/log";

import { parseChatRequest, sendChatReply } from "./chat";
import { BuiltinModelError, sendError } from "./errors";
import { RequestLog, type RequestFilter } from "./log";
import { parseMessagesRequest, sendMessagesReply, sendTokenCount } from "./messages";
import { sendModels } from "./models";
import { parseResponsesRequest, sendResponsesReply } from "./responses";
import { attemptKey, FailureBudget, parseScript, planReply } from "./script";
import type { ApiFamily, BuiltinApi, BuiltinReply, BuiltinRequest, Conversation, Plan } from "./types";

/*
 * Hangar's built-in model: a scripted model behind the three wire formats the harnesses
 * speak — OpenAI chat completions (opencode), OpenAI Responses (Codex) and Anthropic Messages
 * (Claude Code, Claude Agent SDK) — streaming or not, so every harness runs end to end offline.
 *
 * Replies follow directives in the last user message (see script.ts and README.md):
 *   REPLY: <text>   RUN: <command>   WRITE: <path> + content lines   THINK: <text>
 *   ERROR: <status> [xN] [message]   SLOW: <ms>
 * Anything else gets `Hangar test model: you said "<text>"`.
 *
 * Routes (any path prefix, so both `/v1/messages` and `/messages` work):
 *   POST …/chat/completions   POST …/responses   POST …/messages   POST …/messages/count_tokens
 *   GET  …/models             GET  …/models/<id>
 * Every request lands in an in-memory log (`requests()`), tagged with the caller's session.
 * Bodies are capped (413) and so are requests in flight, overall and per session (429 with
 * retry-after): a sandbox is the caller, and it may be hostile (lib/bounds.ts).
 */

export type { BuiltinApi, BuiltinReply, BuiltinRequest } from "./types";
export type { RequestFilter } from "./log";
export { parseScript } from "./script";

export type BuiltinModelOptions = {
  /** Model ids `GET /v1/models` lists (any model name is accepted in requests). */
  models?: string[];
  /** How many requests the log keeps. */
  logSize?: number;
  /** Largest request body read, after decoding (default BUILTIN_MODEL_BODY_MAX). */
  maxBodyBytes?: number;
  /** Requests answered at once, overall and per session (defaults in lib/bounds.ts). */
  maxInFlight?: number;
  maxInFlightPerSession?: number;
};

export type HandleContext = { session?: string };

export type BuiltinModel = {
  handle(req: http.IncomingMessage, res: http.ServerResponse, context?: HandleContext): Promise<void>;
  /** Logged requests, oldest first (copies). */
  requests(filter?: RequestFilter): BuiltinRequest[];
  /** Empties the log (or one session's part of it) and forgets spent `ERROR: … xN` attempts. */
  clear(filter?: RequestFilter): void;
};

export const DEFAULT_MODELS = ["hangar-test-model"];

type Route = { api: Exclude<BuiltinApi, "unknown">; method: "GET" | "POST"; pattern: RegExp };

const ROUTES: Route[] = [
  { api: "count_tokens", method: "POST", pattern: /(?:^|\/)messages\/count_tokens$/ },
  { api: "messages", method: "POST", pattern: /(?:^|\/)messages$/ },
  { api: "chat", method: "POST", pattern: /(?:^|\/)chat\/completions$/ },
  { api: "responses", method: "POST", pattern: /(?:^|\/)responses$/ },
  { api: "models", method: "GET", pattern: /(?:^|\/)models(?:\/([^/]+))?$/ },
];

function isAnthropicCaller(req: http.IncomingMessage): boolean {
  return ["anthropic-version", "anthropic-beta", "x-api-key"].some((h) => req.headers[h] !== undefined);
}

function familyOf(api: BuiltinApi, req: http.IncomingMessage): ApiFamily {
  if (api === "messages" || api === "count_tokens") return "anthropic";
  if (api === "chat" || api === "responses") return "openai";
  return isAnthropicCaller(req) ? "anthropic" : "openai";
}

function decoder(encoding: string | undefined): Transform | null {
  switch ((encoding ?? "identity").toLowerCase()) {
    case "identity":
      return null;
    case "gzip":
      return zlib.createGunzip();
    case "deflate":
      return zlib.createInflate();
    case "br":
      return zlib.createBrotliDecompress();
    default:
      throw new BuiltinModelError(415, `unsupported content-encoding ${encoding}`);
  }
}

function tooLarge(res: http.ServerResponse, maxBytes: number): BuiltinModelError {
  // The rest of the body is not read: closing the connection is cheaper than draining it.
  res.setHeader("connection", "close");
  return new BuiltinModelError(413, `request body too large (at most ${maxBytes} bytes)`);
}

/** Reads the body into memory, at most `maxBytes` of it after decoding. */
function readBody(req: http.IncomingMessage, res: http.ServerResponse, maxBytes: number): Promise<Buffer> {
  if (Number(req.headers["content-length"]) > maxBytes) return Promise.reject(tooLarge(res, maxBytes));
  const decode = decoder(req.headers["content-encoding"]);
  const source: Readable = decode ? req.pipe(decode) : req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    source.on("data", (data: Buffer | string) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
      size += chunk.length;
      chunks.push(chunk);
      if (size <= maxBytes) return;
      // Not destroyed: the socket must stay open for the 413, which then closes it.
      source.removeAllListeners("data");
      source.pause();
      if (decode) req.unpipe(decode);
      chunks.length = 0;
      reject(tooLarge(res, maxBytes));
    });
    source.on("end", () => resolve(Buffer.concat(chunks)));
    source.on("error", (err) =>
      reject(decode ? new BuiltinModelError(400, `the body could not be decoded: ${err.message}`) : err),
    );
  });
}

async function readJson(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  maxBytes: number,
): Promise<unknown> {
  const body = await readBody(req, res, maxBytes);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new BuiltinModelError(400, "request body is not valid JSON");
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function replyOf(plan: Plan): BuiltinReply {
  if (plan.kind === "error") return { kind: "error", status: plan.status, message: plan.message };
  if (plan.toolCall) {
    return {
      kind: "tool",
      tool: plan.toolCall.tool.name,
      input: plan.toolCall.input,
      thinking: plan.thinking,
    };
  }
  return { kind: "text", text: plan.text ?? "", thinking: plan.thinking };
}

export function createBuiltinModel(options: BuiltinModelOptions = {}): BuiltinModel {
  const models = options.models ?? DEFAULT_MODELS;
  const requestLog = new RequestLog(options.logSize ?? 500);
  const failures = new FailureBudget();
  const maxBodyBytes = options.maxBodyBytes ?? BUILTIN_MODEL_BODY_MAX;
  const inFlight = new InFlightLimit(
    options.maxInFlight ?? BUILTIN_MODEL_IN_FLIGHT,
    options.maxInFlightPerSession ?? BUILTIN_MODEL_IN_FLIGHT_PER_SESSION,
  );

  async function answer(
    route: Route,
    match: RegExpExecArray,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    entry: BuiltinRequest,
  ) {
    const family = familyOf(route.api, req);
    if (req.method !== route.method) {
      res.setHeader("allow", route.method);
      throw new BuiltinModelError(405, `${req.method} is not allowed here; use ${route.method}`);
    }
    if (route.api === "models") {
      sendModels(res, models, match[1] ? safeDecode(match[1]) : null);
      entry.status = 200;
      return;
    }
    const body = await readJson(req, res, maxBodyBytes);
    let conv: Conversation;
    let includeUsage = false;
    if (route.api === "chat") ({ conv, includeUsage } = parseChatRequest(body));
    else if (route.api === "responses") conv = parseResponsesRequest(body);
    else conv = parseMessagesRequest(body);
    const script = parseScript(conv.userText);
    Object.assign(entry, {
      model: conv.model,
      stream: conv.stream,
      system: conv.system,
      userText: conv.userText,
      tools: conv.tools.map((t) => t.name),
      directives: script.directives,
    });
    if (route.api === "count_tokens") {
      sendTokenCount(res, conv);
      entry.status = 200;
      return;
    }
    const key = attemptKey(entry.session, route.api, conv);
    const plan = planReply(conv, script, () => failures.take(key, script.error?.times ?? null));
    entry.reply = replyOf(plan);
    if (plan.kind === "error") {
      sendError(res, family, plan.status, plan.message);
      entry.status = plan.status;
      return;
    }
    entry.status = 200;
    const sent =
      route.api === "chat"
        ? await sendChatReply(res, conv, plan, includeUsage)
        : route.api === "responses"
          ? await sendResponsesReply(res, conv, plan)
          : await sendMessagesReply(res, conv, plan);
    entry.aborted = sent.aborted;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, context: HandleContext = {}) {
    const started = Date.now();
    const pathname = new URL(req.url ?? "/", "http://builtin").pathname.replace(/\/+$/, "");
    const found = ROUTES.map((route) => ({ route, match: route.pattern.exec(pathname) })).find(
      (r) => r.match,
    );
    const api: BuiltinApi = found?.route.api ?? "unknown";
    const entry = requestLog.add({
      time: new Date(started).toISOString(),
      session: context.session ?? null,
      api,
      method: req.method ?? "GET",
      path: req.url ?? "/",
      model: null,
      stream: false,
      system: "",
      userText: "",
      tools: [],
      directives: [],
      reply: null,
      status: 0,
      aborted: false,
      durationMs: null,
      userAgent: req.headers["user-agent"] ?? null,
    });
    const release = inFlight.admit(context.session ?? null);
    try {
      if (!release) throw new BuiltinModelError(429, "too many requests in flight; retry in a moment");
      if (!found?.match) throw new BuiltinModelError(404, `no route for ${req.method} ${pathname}`);
      await answer(found.route, found.match, req, res, entry);
    } catch (err) {
      const status = err instanceof BuiltinModelError ? err.status : 500;
      const message = err instanceof BuiltinModelError ? err.message : "internal error in the model gateway";
      if (!(err instanceof BuiltinModelError))
        log.warn("built-in model failed", { path: pathname, error: err });
      entry.status = status;
      if (!res.headersSent) sendError(res, familyOf(api, req), status, message);
      else res.destroy();
    } finally {
      release?.();
      entry.durationMs = Date.now() - started;
    }
  }

  return {
    handle,
    requests: (filter) => requestLog.list(filter),
    clear: (filter) => {
      requestLog.clear(filter);
      failures.clear();
    },
  };
}

export type ListenOptions = BuiltinModelOptions & {
  /** TCP port on `host` (default 127.0.0.1); 0 or absent picks a free one. */
  port?: number;
  host?: string;
  /** Listen on this Unix socket instead of TCP. */
  socketPath?: string;
  /** Serve an existing model (its log is shared) instead of a new one. */
  model?: BuiltinModel;
};

export type BuiltinModelServer = {
  model: BuiltinModel;
  /**
   * `http://host:port` (for a socket, `http://localhost`). Anthropic clients take it as it is,
   * OpenAI clients with `/v1` appended.
   */
  url: string;
  port: number | null;
  socketPath: string | null;
  close(): Promise<void>;
};

const SESSION_PREFIX = /^\/session\/([^/?]+)(?=\/)/;

/**
 * Serves the built-in model on a plain node http server, for tests, benches and local development. A path
 * that starts with `/session/<tag>/` is logged under that session tag, so several harnesses can
 * share one server (base URL `…/session/<tag>` or `…/session/<tag>/v1`).
 */
export async function listenBuiltinModel(options: ListenOptions = {}): Promise<BuiltinModelServer> {
  const model = options.model ?? createBuiltinModel(options);
  const server = http.createServer((req, res) => {
    const session = SESSION_PREFIX.exec(req.url ?? "")?.[1];
    void model.handle(req, res, session ? { session: decodeURIComponent(session) } : {});
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  const host = options.host ?? "127.0.0.1";
  if (options.socketPath) fs.rmSync(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (options.socketPath) server.listen(options.socketPath, resolve);
    else server.listen(options.port ?? 0, host, resolve);
  });
  const port = options.socketPath ? null : (server.address() as AddressInfo).port;
  return {
    model,
    url: port === null ? "http://localhost" : `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    socketPath: options.socketPath ?? null,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
