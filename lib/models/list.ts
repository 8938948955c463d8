import { log } from "@/lib/log";
import { DEFAULT_MODELS } from "@/lib/models/builtin";
import { runtime } from "@/lib/runtime";
import type { ModelList } from "@/lib/schemas/model";

export const BUILTIN_MODEL_NOTICE =
  "Built-in test model: no LITELLM_API_BASE is configured, so sessions get Hangar's scripted replies " +
  "(any model name works). Set LITELLM_API_BASE and LITELLM_API_KEY to use real models.";

const TIMEOUT_MS = 5000;

/** The configured gateway's model list; the platform key is added here and never leaves the server. */
export async function listModels(): Promise<ModelList> {
  const { LITELLM_API_BASE: base, LITELLM_API_KEY: key } = runtime().config;
  if (!base) {
    return {
      data: DEFAULT_MODELS.map((id) => ({ id, owned_by: "hangar" })),
      source: "builtin",
      gateway_host: null,
      reason: BUILTIN_MODEL_NOTICE,
    };
  }
  const url = new URL("v1/models", base.endsWith("/") ? base : base + "/");
  const upstream = { source: "gateway" as const, gateway_host: url.hostname };
  try {
    const res = await fetch(url, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) {
      return {
        ...upstream,
        data: [],
        reason: `The model gateway answered ${res.status} for /v1/models.`,
      };
    }
    const body = (await res.json()) as { data?: { id?: unknown; owned_by?: unknown }[] };
    const data = (body.data ?? [])
      .filter((m): m is { id: string; owned_by?: unknown } => typeof m?.id === "string")
      .map((m) => ({ id: m.id, owned_by: typeof m.owned_by === "string" ? m.owned_by : null }))
      .sort((a, b) => a.id.localeCompare(b.id));
    return { ...upstream, data, reason: null };
  } catch (err) {
    log.warn("model gateway unreachable", { base, error: (err as Error).message });
    return {
      ...upstream,
      data: [],
      reason: `The model gateway at ${url.origin} could not be reached.`,
    };
  }
}
