import { Clock, Download, FileText, KeyRound, ShieldCheck, ShieldOff } from "lucide-react";
import Link from "next/link";
import type { ReactNode } from "react";

import { AgentSessions } from "@/components/sessions/agent-sessions";
import { Badge } from "@/components/ui/badge";
import { CopyButton } from "@/components/ui/copy-button";
import { formatBytes } from "@/components/ui/meter";
import { RelativeTime } from "@/components/ui/time";
import { fileUrl } from "@/lib/api-client/agents";
import type { Agent } from "@/lib/schemas/agent";
import { basePrompt } from "@/lib/skill-blocks";

import { HarnessBadge } from "./harness-badge";

function Panel({ title, children, aside }: { title: string; children: ReactNode; aside?: ReactNode }) {
  return (
    <section aria-label={title} className="rounded-lg border border-border">
      <header className="flex h-9 items-center justify-between border-b border-border bg-bg-subtle px-3">
        <h2 className="text-xs font-medium text-fg-muted">{title}</h2>
        {aside}
      </header>
      <div className="p-3">{children}</div>
    </section>
  );
}

function Empty({ children }: { children: ReactNode }) {
  return <p className="text-xs text-fg-subtle">{children}</p>;
}

function sessionSnippet(origin: string, agent: Agent): string {
  return [
    `curl -X POST "${origin}/api/v1/managed_agents/agents/${agent.id}/session" \\`,
    `  -H "Authorization: Bearer $MASTER_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"title": "First session", "initial_prompt": "Hello!"}'`,
  ].join("\n");
}

/** The agent page's wide column: facts, sessions, prompt, skills (`names` by id) and files. */
export function AgentMainColumn({ agent, names }: { agent: Agent; names: Map<string, string> }) {
  const prompt = basePrompt(agent.prompt);
  return (
    <div className="flex min-w-0 flex-col gap-4">
      <dl className="grid grid-cols-2 gap-x-6 gap-y-3 rounded-lg border border-border p-3 text-[13px] md:grid-cols-4">
        <Fact label="Harness">
          <HarnessBadge harness={agent.harness_id} />
        </Fact>
        <Fact label="Model">
          <span className="font-mono text-xs">{agent.model}</span>
        </Fact>
        <Fact label="Repository">
          {agent.repo_url ? (
            <span className="font-mono text-xs break-all">
              {agent.repo_url} <span className="text-fg-muted">@ {agent.branch}</span>
            </span>
          ) : (
            <span className="text-fg-subtle">none</span>
          )}
        </Fact>
        <Fact label="Updated">
          <RelativeTime iso={agent.updated_at} />
        </Fact>
      </dl>

      <Panel
        title="Sessions"
        aside={
          <Link href={`/sessions?agent=${agent.id}`} className="text-xs text-fg-muted hover:text-fg">
            View all
          </Link>
        }
      >
        <AgentSessions agentId={agent.id} />
      </Panel>

      <Panel title="System prompt">
        {prompt ? (
          // A long prompt scrolls: focusable, so a keyboard can scroll it too.
          <pre
            tabIndex={0}
            role="region"
            aria-label="System prompt text"
            className="max-h-80 overflow-auto font-mono text-xs whitespace-pre-wrap"
          >
            {prompt}
          </pre>
        ) : (
          <Empty>No prompt: a general-purpose agent.</Empty>
        )}
      </Panel>

      <Panel title={`Skills (${agent.attached_skill_ids.length})`}>
        {agent.attached_skill_ids.length ? (
          <ol className="flex flex-col gap-1">
            {agent.attached_skill_ids.map((sid, i) => (
              <li key={sid} className="flex items-center gap-2">
                <span className="w-4 text-right font-mono text-[11px] text-fg-subtle">{i + 1}</span>
                {names.has(sid) ? (
                  <Link className="hover:underline" href={`/skills/${sid}`}>
                    {names.get(sid)}
                  </Link>
                ) : (
                  <span className="font-mono text-xs">{sid}</span>
                )}
              </li>
            ))}
          </ol>
        ) : (
          <Empty>No skills attached.</Empty>
        )}
      </Panel>

      <Panel title={`Sandbox files (${agent.sandbox_files.length})`}>
        {agent.sandbox_files.length ? (
          <ul className="flex flex-col divide-y divide-border">
            {agent.sandbox_files.map((file) => (
              <li key={file.index} className="flex items-center gap-3 py-1.5">
                <FileText size={14} aria-hidden className="text-fg-subtle" />
                <span className="min-w-0 flex-1 truncate font-mono text-xs">{file.sandbox_path}</span>
                <span className="text-xs text-fg-muted">{formatBytes(file.size)}</span>
                <a
                  href={fileUrl(agent.id, file.index)}
                  download={file.name}
                  aria-label={`Download ${file.name}`}
                  className="text-fg-muted hover:text-fg"
                >
                  <Download size={14} aria-hidden />
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <Empty>No files.</Empty>
        )}
      </Panel>
    </div>
  );
}

/** The agent page's side column: the curl command, environment, network rules and setup. */
export function AgentSideColumn({ agent, origin }: { agent: Agent; origin: string }) {
  const envKeys = Object.keys(agent.env_vars);
  return (
    <div className="flex min-w-0 flex-col gap-4">
      <Panel
        title="Start a session over the API"
        aside={<CopyButton text={sessionSnippet(origin, agent)} label="Copy the curl command" />}
      >
        <pre
          tabIndex={0}
          role="region"
          aria-label="curl command to start a session"
          className="overflow-x-auto rounded bg-bg-muted p-2 font-mono text-[11px] leading-relaxed"
        >
          {sessionSnippet(origin, agent)}
        </pre>
      </Panel>

      <Panel title={`Environment (${envKeys.length})`}>
        {envKeys.length ? (
          <ul className="flex flex-col gap-1">
            {envKeys.map((key) => (
              <li key={key} className="flex items-center gap-2 font-mono text-xs">
                <KeyRound size={12} aria-hidden className="text-fg-subtle" />
                <span className="flex-1">{key}</span>
                <span className="text-fg-subtle" aria-label="value hidden">
                  ••••••••
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <Empty>No env vars.</Empty>
        )}
      </Panel>

      <Panel title="Network">
        <RuleList
          icon={<ShieldCheck size={12} aria-hidden className="text-success" />}
          label="Allowed"
          rules={agent.allow_out}
          empty="No allow list: anything not denied may go out."
        />
        <div className="h-3" />
        <RuleList
          icon={<ShieldOff size={12} aria-hidden className="text-danger" />}
          label="Denied"
          rules={agent.deny_out}
          empty="Nothing denied."
        />
      </Panel>

      <Panel title="Setup">
        <dl className="flex flex-col gap-2 text-xs">
          <Fact label="Python requirements">
            {agent.requirements ? (
              <pre className="font-mono whitespace-pre-wrap">{agent.requirements}</pre>
            ) : (
              <span className="text-fg-subtle">none</span>
            )}
          </Fact>
          <Fact label="MCP servers">
            {agent.mcp_servers.length ? (
              agent.mcp_servers.map((s) => (
                <Badge key={s} className="mr-1">
                  {s}
                </Badge>
              ))
            ) : (
              <span className="text-fg-subtle">none</span>
            )}
          </Fact>
        </dl>
      </Panel>
      <p className="flex items-center gap-1.5 text-xs text-fg-subtle">
        <Clock size={12} aria-hidden /> Created <RelativeTime iso={agent.created_at} />
      </p>
    </div>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-[11px] text-fg-muted">{label}</dt>
      <dd className="mt-0.5">{children}</dd>
    </div>
  );
}

function RuleList({
  icon,
  label,
  rules,
  empty,
}: {
  icon: ReactNode;
  label: string;
  rules: string[];
  empty: string;
}) {
  return (
    <div>
      <h3 className="mb-1 flex items-center gap-1.5 text-[11px] text-fg-muted">
        {icon}
        {label}
      </h3>
      {rules.length ? (
        <ul className="flex flex-wrap gap-1">
          {rules.map((rule) => (
            <li key={rule}>
              <Badge className="font-mono">{rule}</Badge>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>{empty}</Empty>
      )}
    </div>
  );
}
