"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";

import { PageHeader } from "@/components/ui/page-header";
import { agentQueries, useCreateAgent, useUpdateAgent } from "@/lib/api-client/agents";
import type { Agent, AgentFormInput, AgentFormValues } from "@/lib/schemas/agent";
import type { SandboxFileInput } from "@/lib/schemas/sandbox-file";
import { basePrompt, skillSnapshots, withBasePrompt } from "@/lib/skill-blocks";

import { AgentForm } from "./agent-form";

const NEW_AGENT: AgentFormInput = {
  name: null,
  model: "",
  prompt: null,
  harness_id: "opencode",
  requirements: null,
  repo_url: null,
  branch: "main",
  mcp_servers: [],
  allow_out: [],
  deny_out: [],
  env_vars: {},
  skill_ids: [],
  sandbox_files: [],
};

export function NewAgent() {
  const router = useRouter();
  const create = useCreateAgent();
  return (
    <>
      <PageHeader title="New agent" description="Everything a session of this agent starts with." />
      <AgentForm
        defaultValues={NEW_AGENT}
        submitLabel="Create agent"
        cancelHref="/agents"
        onSubmit={async (values) => {
          // A new agent has no stored files, so every file carries its content.
          const files = values.sandbox_files.filter((f): f is SandboxFileInput => "content" in f);
          const agent = await create.mutateAsync({ ...values, sandbox_files: files });
          router.push(`/agents/${agent.id}`);
        }}
      />
    </>
  );
}

function formValuesOf(agent: Agent): AgentFormInput {
  return {
    name: agent.name,
    model: agent.model,
    prompt: basePrompt(agent.prompt) || null,
    harness_id: agent.harness_id,
    requirements: agent.requirements,
    repo_url: agent.repo_url,
    branch: agent.branch,
    pfp_url: agent.pfp_url,
    mcp_servers: agent.mcp_servers,
    allow_out: agent.allow_out,
    deny_out: agent.deny_out,
    env_vars: agent.env_vars,
    skill_ids: agent.attached_skill_ids,
    sandbox_files: agent.sandbox_files.map(({ name, sandbox_path, content_type, size, sha256 }) => ({
      name,
      sandbox_path,
      content_type,
      size,
      sha256,
    })),
  };
}

export function EditAgent({ id }: { id: string }) {
  const router = useRouter();
  const query = useQuery(agentQueries.detail(id));
  const update = useUpdateAgent(id);
  const agent = query.data;
  return (
    <>
      <PageHeader
        title={agent ? `Edit ${agent.name ?? "agent"}` : "Edit agent"}
        description={<span className="font-mono">{id}</span>}
      />
      {query.error && <p className="px-6 py-4 text-danger">{query.error.message}</p>}
      {agent && (
        <AgentForm
          key={agent.id}
          agentId={agent.id}
          defaultValues={formValuesOf(agent)}
          storedEnvKeys={Object.keys(agent.env_vars)}
          skillSnapshots={skillSnapshots(agent.prompt)}
          submitLabel="Save changes"
          cancelHref={`/agents/${agent.id}`}
          onSubmit={async (values: AgentFormValues) => {
            await update.mutateAsync({
              ...values,
              // Keep the blocks of skills that stay attached: they are the agent's snapshots.
              prompt: withBasePrompt(agent.prompt, values.prompt) || null,
              expected_version: agent.version,
            });
            router.push(`/agents/${agent.id}`);
          }}
        />
      )}
    </>
  );
}
