/*
 * A small closed-loop load generator: N workers, each issuing requests one after another until a
 * deadline, with every request's latency recorded. HTTP goes over Node's keep-alive `http.Agent`
 * (one socket per worker); `runLoop` drives any async task (e.g. a raw database insert) the same way.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";

export type LoopOptions = {
  concurrency: number;
  durationMs: number;
  /** One unit of work; resolves true on success, false (or throws) on failure. */
  task: (worker: number, seq: number) => Promise<boolean>;
};

export type LoopResult = {
  /** Latency of every completed task (successes and failures), in ms. */
  latencies: number[];
  count: number;
  errors: number;
  /** From the start until the last worker finished its final task. */
  elapsedMs: number;
  /** A few error descriptions, for the progress log. */
  errorSamples: string[];
  /** CPU time this (load-generating) process used meanwhile, user + system, in ms. */
  clientCpuMs: number;
};

export type Stats = {
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  errors: number;
  count: number;
};

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

/** Requests/s counts successful requests only; latency percentiles cover every request. */
export function summarize(result: LoopResult): Stats {
  const sorted = Float64Array.from(result.latencies).sort();
  const arr = Array.from(sorted);
  const ok = result.count - result.errors;
  return {
    rps: round2(result.elapsedMs > 0 ? ok / (result.elapsedMs / 1000) : 0),
    p50_ms: round2(percentile(arr, 50)),
    p90_ms: round2(percentile(arr, 90)),
    p99_ms: round2(percentile(arr, 99)),
    max_ms: round2(arr.length ? (arr[arr.length - 1] ?? 0) : 0),
    errors: result.errors,
    count: result.count,
  };
}

export async function runLoop(opts: LoopOptions): Promise<LoopResult> {
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + opts.durationMs;

  const noteError = (what: string) => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push(what);
  };

  const worker = async (w: number) => {
    let seq = 0;
    while (performance.now() < deadline) {
      const t0 = performance.now();
      let ok = false;
      let failure = "task returned false";
      try {
        ok = await opts.task(w, seq++);
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
      latencies.push(performance.now() - t0);
      if (!ok) noteError(failure);
    }
  };

  await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const clientCpuMs = (cpu.user + cpu.system) / 1000;
  return { latencies, count: latencies.length, errors, elapsedMs, errorSamples, clientCpuMs };
}

export type HttpRequestSpec = {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
};

export type HttpResponse = { status: number; body: Buffer | null };

export type HttpClient = {
  request: (
    spec: HttpRequestSpec,
    opts?: { keepBody?: boolean; timeoutMs?: number },
  ) => Promise<HttpResponse>;
  close: () => void;
};

/** A keep-alive client for one origin, with at most `maxSockets` connections. */
export function createHttpClient(origin: string, maxSockets: number): HttpClient {
  const url = new URL(origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const request = (spec: HttpRequestSpec, opts: { keepBody?: boolean; timeoutMs?: number } = {}) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const headers: Record<string, string> = { ...spec.headers };
      if (spec.body !== undefined) headers["content-length"] = String(Buffer.byteLength(spec.body));
      const req = http.request(
        { agent, host: url.hostname, port: url.port, method: spec.method, path: spec.path, headers },
        (res) => {
          const status = res.statusCode ?? 0;
          // Keep the body when asked, or when it explains a failure; otherwise just drain it.
          const keep = opts.keepBody === true || status < 200 || status >= 300;
          const chunks: Buffer[] = [];
          if (keep) res.on("data", (c: Buffer) => chunks.push(c));
          else res.resume();
          res.on("end", () => resolve({ status, body: keep ? Buffer.concat(chunks) : null }));
          res.on("error", reject);
        },
      );
      req.setTimeout(opts.timeoutMs ?? 30_000, () =>
        req.destroy(new Error(`request timed out: ${spec.method} ${spec.path}`)),
      );
      req.on("error", reject);
      req.end(spec.body);
    });
  return { request, close: () => agent.destroy() };
}

export type HttpLoadOptions = {
  concurrency: number;
  durationMs: number;
  makeRequest: (worker: number, seq: number) => HttpRequestSpec;
  /** Called with each 2xx response's body (bodies are only buffered when this is given). */
  onSuccess?: (body: Buffer) => void;
};

/** Closed-loop HTTP load: non-2xx responses and transport errors count as errors. */
export async function runHttpLoad(origin: string, opts: HttpLoadOptions): Promise<LoopResult> {
  const client = createHttpClient(origin, opts.concurrency);
  try {
    return await runLoop({
      concurrency: opts.concurrency,
      durationMs: opts.durationMs,
      task: async (w, seq) => {
        const spec = opts.makeRequest(w, seq);
        const res = await client.request(spec, { keepBody: opts.onSuccess !== undefined });
        if (res.status >= 200 && res.status < 300) {
          if (opts.onSuccess && res.body) opts.onSuccess(res.body);
          return true;
        }
        throw new Error(
          `HTTP ${res.status} ${spec.method} ${spec.path}: ${res.body?.toString("utf8").slice(0, 200) ?? ""}`,
        );
      },
    });
  } finally {
    client.close();
  }
}
