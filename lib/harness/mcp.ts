/*
 * The agent's MCP servers (`mcp_servers`), as every harness connects to them. An entry is either:
 *
 * - a LiteLLM MCP server id or name (no scheme), e.g. `github`: reached at `<modelBase>/mcp/<id>`
 *   over streamable HTTP, through the per-session model endpoint. It carries the per-session token
 *   (`Authorization: Bearer <LITELLM_API_KEY inside the sandbox>`), which the host endpoint checks
 *   and swaps for the platform's real key, as it does for model requests; or
 * - a full `http://` or `https://` URL: used as it is. It goes out through the egress proxy, so the
 *   agent's allow and deny lists apply, and no token is added (a foreign server never sees it).
 *
 * Anything else (another scheme, a URL that does not parse) is skipped, as is an entry that resolves
 * to a URL already listed. Braces in a URL are percent-encoded, so no harness expands a variable in
 * it. Each server gets a name the harnesses accept as a config key and in tool names
 * (`[A-Za-z0-9_-]`, at most 32 characters): the id for LiteLLM servers, the host for URLs
 * (`https://mcp.linear.app/sse` → `mcp-linear-app`). Names are unique regardless of case; LiteLLM ids
 * claim theirs first, so a URL never renames a LiteLLM server's tools, and a clash gets `-2`, `-3`…
 *
 * The token is never written into a harness's config: each harness reads it from LITELLM_API_KEY
 * inside the sandbox (opencode `{env:…}`, Claude Code `${…}`, Codex `bearer_token_env_var`). The
 * Agent SDK's servers, built on the host, take the base from `${LITELLM_API_BASE}` too: without
 * isolation a sandbox's model port is known only inside it. mcp.test.ts checks all of this against
 * the pinned binaries and a real MCP server.
 */

export type McpServer = {
  name: string;
  url: string;
  /** Reached through the per-session model endpoint (LiteLLM), so it carries the session token. */
  viaGateway: boolean;
};

/** A server as Claude Code connects to it: ~/.claude.json and the Agent SDK's `mcpServers` option. */
export type McpConnection = { name: string; url: string; headers?: Record<string, string> };

const NAME_MAX = 32;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

function baseName(raw: string): string {
  const name = raw
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, NAME_MAX)
    .replace(/[-_]+$/, "");
  return name || "mcp";
}

function unique(raw: string, taken: Set<string>): string {
  const base = baseName(raw);
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) {
    const suffix = `-${n}`;
    name = base.slice(0, NAME_MAX - suffix.length) + suffix;
  }
  taken.add(name.toLowerCase());
  return name;
}

/**
 * Braces percent-encoded: harnesses expand `{env:…}` / `{file:…}` (opencode) and `${…}` (Claude Code)
 * in their config, and a URL the agent lists must reach its server as written, never carry a secret.
 */
function literal(href: string): string {
  return href.replace(/[{}]/g, (brace) => encodeURIComponent(brace));
}

type Parsed = { kind: "litellm"; id: string } | { kind: "url"; url: URL };

function parse(entry: string): Parsed | null {
  const value = entry.trim();
  if (!value) return null;
  if (!SCHEME.test(value)) return { kind: "litellm", id: value };
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? { kind: "url", url } : null;
  } catch {
    return null;
  }
}

/**
 * The agent's entries as servers to connect to, in the agent's order. `modelBase` is the per-session
 * model endpoint as the sandbox sees it (e.g. http://127.0.0.1:4000), or an expression the harness
 * expands inside the sandbox (Claude Code: `${LITELLM_API_BASE}`).
 */
export function resolveMcpServers(entries: string[], modelBase: string): McpServer[] {
  const base = modelBase.replace(/\/+$/, "");
  const parsed = entries.map(parse);
  const taken = new Set<string>();
  const seen = new Set<string>();
  const servers: (McpServer | null)[] = parsed.map(() => null);
  // LiteLLM servers first: their names are their ids whatever else the agent lists.
  for (const kind of ["litellm", "url"] as const) {
    parsed.forEach((entry, index) => {
      if (entry?.kind !== kind) return;
      const url =
        entry.kind === "litellm" ? `${base}/mcp/${encodeURIComponent(entry.id)}` : literal(entry.url.href);
      if (seen.has(url)) return;
      seen.add(url);
      servers[index] =
        entry.kind === "litellm"
          ? { name: unique(entry.id, taken), url, viaGateway: true }
          : { name: unique(entry.url.hostname.replace(/^www\./, ""), taken), url, viaGateway: false };
    });
  }
  return servers.filter((server): server is McpServer => server !== null);
}

/** Claude Code expands `${VAR}` in an MCP server's url and headers, inside the sandbox. */
export const CLAUDE_MODEL_BASE = "${LITELLM_API_BASE}";
const CLAUDE_BEARER = "Bearer ${LITELLM_API_KEY}";

/** Servers as Claude Code connects to them: the session token only for LiteLLM's. */
export function claudeMcpConnections(servers: McpServer[]): McpConnection[] {
  return servers.map(({ name, url, viaGateway }) =>
    viaGateway ? { name, url, headers: { Authorization: CLAUDE_BEARER } } : { name, url },
  );
}
