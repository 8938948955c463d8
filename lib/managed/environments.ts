import {
  deleteEnvironmentRow,
  getEnvironmentRow,
  insertEnvironment,
  listEnvironmentRows,
  updateEnvironmentRow,
  type EnvironmentRow,
} from "@/db/queries/environments";
import { ValidationError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type {
  CreateEnvironmentInput,
  Environment,
  EnvironmentConfig,
  EnvironmentConfigInput,
  UpdateEnvironmentInput,
} from "@/lib/schemas/environment";
import { mergeMetadata, type CursorQuery } from "@/lib/schemas/managed-common";

/*
 * /v1/environments. A session created in an environment takes its networking as the sandbox's
 * egress allow-list (enforced by the egress proxy like any agent's allow_out) and its pip packages
 * as boot-time requirements.
 */

/** The package registries `allow_package_managers` opens (pip's, since pip is what Hangar installs). */
export const PACKAGE_HOSTS = ["pypi.org", "files.pythonhosted.org"];

/**
 * A name that never resolves (RFC 6761 reserves `.invalid`): a limited network with nothing allowed
 * still needs a non-empty allow-list, since an empty one means "no allow rule" (everything not denied).
 */
export const NOTHING_ALLOWED = "nothing-allowed.invalid";

const EMPTY_PACKAGES = { type: "packages" as const, pip: [], npm: [], apt: [], cargo: [], gem: [], go: [] };

export function normalizeConfig(input: EnvironmentConfigInput | null | undefined): EnvironmentConfig {
  if (input?.type === "self_hosted") {
    throw new ValidationError(
      "config.type: self_hosted environments are not supported; Hangar hosts the sandbox",
      [{ path: ["config", "type"], message: "use cloud" }],
    );
  }
  const net = input?.networking;
  return {
    type: "cloud",
    networking:
      net?.type === "limited"
        ? {
            type: "limited",
            allowed_hosts: net.allowed_hosts ?? [],
            allow_package_managers: net.allow_package_managers ?? false,
            allow_mcp_servers: net.allow_mcp_servers ?? false,
          }
        : { type: "unrestricted" },
    packages: { ...EMPTY_PACKAGES, pip: input?.packages?.pip ?? [] },
  };
}

export function presentEnvironment(row: EnvironmentRow): Environment {
  return {
    id: row.id,
    type: "environment",
    name: row.name,
    description: row.description,
    config: row.config,
    metadata: row.metadata,
    scope: "organization",
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    archived_at: row.archivedAt ? row.archivedAt.toISOString() : null,
  };
}

/** What a session in this environment runs with: its egress allow-list (null: the agent's) and pip lines. */
export function sessionSettings(
  config: EnvironmentConfig,
  mcpServers: string[],
): { allowOut: string[] | null; requirements: string | null } {
  const requirements = config.packages.pip.length ? config.packages.pip.join("\n") : null;
  if (config.networking.type === "unrestricted") return { allowOut: null, requirements };
  const hosts = [...config.networking.allowed_hosts];
  if (config.networking.allow_package_managers) hosts.push(...PACKAGE_HOSTS);
  if (config.networking.allow_mcp_servers) {
    for (const entry of mcpServers) {
      if (URL.canParse(entry)) hosts.push(new URL(entry).hostname);
    }
  }
  const unique = [...new Set(hosts)];
  return { allowOut: unique.length ? unique : [NOTHING_ALLOWED], requirements };
}

export async function createEnvironment(input: CreateEnvironmentInput, workspaceId: string) {
  const row = await insertEnvironment({
    id: newId("environment"),
    workspaceId,
    name: input.name,
    description: input.description ?? null,
    config: normalizeConfig(input.config),
    metadata: input.metadata ?? {},
  });
  return presentEnvironment(row);
}

export async function getEnvironment(id: string) {
  return presentEnvironment(await getEnvironmentRow(id));
}

export async function updateEnvironment(id: string, input: UpdateEnvironmentInput) {
  const row = await getEnvironmentRow(id);
  const updated = await updateEnvironmentRow(id, {
    ...(input.name ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.config ? { config: normalizeConfig(input.config) } : {}),
    ...(input.metadata !== undefined ? { metadata: mergeMetadata(row.metadata, input.metadata) } : {}),
  });
  return presentEnvironment(updated);
}

export async function archiveEnvironment(id: string) {
  const row = await getEnvironmentRow(id);
  if (row.archivedAt) return presentEnvironment(row);
  return presentEnvironment(await updateEnvironmentRow(id, { archivedAt: new Date() }));
}

export async function deleteEnvironment(id: string) {
  await deleteEnvironmentRow(id);
  return { id, type: "environment_deleted" as const };
}

export async function listEnvironments(query: CursorQuery, workspaceId: string) {
  const page = await listEnvironmentRows(query, workspaceId);
  return { data: page.data.map(presentEnvironment), next_page: page.next_page };
}
