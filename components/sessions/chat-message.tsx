"use client";

import {
  Bot,
  Brain,
  CircleAlert,
  CircleCheck,
  CircleStop,
  CircleX,
  Clock,
  LoaderCircle,
  ShieldQuestion,
  Wrench,
} from "lucide-react";
import { memo, type ReactNode } from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Disclosure } from "@/components/ui/disclosure";
import { Markdown } from "@/components/ui/markdown";
import { useCaller } from "@/lib/api-client/auth";
import { useAnswerPermission, type PermissionReply } from "@/lib/api-client/sessions";
import { cn } from "@/lib/cn";
import type { ThreadMessage, ThreadPart } from "@/lib/schemas/session-event";

import { formatMs } from "./session-phases";

type ToolPart = Extract<ThreadPart, { type: "tool" }>;
type PermissionPart = Extract<ThreadPart, { type: "permission" }>;

const COUNT = new Intl.NumberFormat("en-US");

function formatUsd(usd: number): string {
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

function formatQuiet(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/** The one line that says what a tool call does: its command, path or pattern when it has one. */
function inputPreview(input: unknown): string {
  if (typeof input === "string") return input;
  if (input && typeof input === "object" && !Array.isArray(input)) {
    const fields = input as Record<string, unknown>;
    for (const key of ["command", "cmd", "file_path", "filePath", "path", "pattern", "url", "query"]) {
      const value = fields[key];
      if (typeof value === "string" && value.trim()) return value;
      if (Array.isArray(value) && value.length && value.every((v) => typeof v === "string"))
        return value.join(" ");
    }
  }
  const json = JSON.stringify(input);
  return json && json !== "{}" && json !== "null" ? json : "";
}

function formatInput(input: unknown): string {
  if (typeof input === "string") return input;
  return JSON.stringify(input, null, 2) ?? "";
}

function Block({ label, children, tone }: { label: string; children: string; tone?: "danger" }) {
  return (
    <div className="flex min-w-0 flex-col gap-1">
      <p className={cn("text-[11px] font-medium", tone === "danger" ? "text-danger" : "text-fg-muted")}>
        {label}
      </p>
      <pre
        tabIndex={0}
        className={cn(
          "max-h-72 overflow-auto rounded border p-2 font-mono text-[11px] leading-relaxed break-words whitespace-pre-wrap",
          tone === "danger" ? "border-danger/40 bg-danger-subtle text-danger" : "border-border bg-bg text-fg",
        )}
      >
        {children || <span className="text-fg-subtle">(empty)</span>}
      </pre>
    </div>
  );
}

function ToolStatus({ status }: { status: ToolPart["state"]["status"] }) {
  if (status === "running")
    return (
      <span className="flex shrink-0 items-center gap-1 text-[11px] text-fg-muted">
        <LoaderCircle size={12} aria-hidden className="text-accent motion-safe:animate-spin" />
        running
      </span>
    );
  if (status === "error")
    return (
      <span className="flex shrink-0 items-center gap-1 text-[11px] font-medium text-danger">
        <CircleX size={12} aria-hidden />
        failed
      </span>
    );
  return (
    <span className="flex shrink-0 items-center gap-1 text-[11px] text-fg-subtle">
      <CircleCheck size={12} aria-hidden className="text-success" />
      <span className="sr-only">done</span>
    </span>
  );
}

function ToolBlock({ part }: { part: ToolPart }) {
  const { state } = part;
  const preview = inputPreview(state.input).replace(/\s+/g, " ");
  const failed = state.status === "error";
  return (
    <Disclosure
      className={cn(
        "rounded-md border bg-bg-subtle/60",
        failed ? "border-danger/40 bg-danger-subtle/60" : "border-border",
      )}
      buttonClassName="h-8 rounded-md px-2.5 text-xs"
      panelClassName="flex flex-col gap-2 border-t border-border px-2.5 py-2"
      summary={
        <>
          <Wrench
            size={12}
            aria-hidden
            className={cn("shrink-0", failed ? "text-danger" : "text-fg-muted")}
          />
          <span className={cn("shrink-0 font-mono font-medium", failed && "text-danger")}>{part.tool}</span>
          {preview && <span className="min-w-0 truncate font-mono text-fg-muted">{preview}</span>}
          <span className="ml-auto" />
          <ToolStatus status={state.status} />
        </>
      }
    >
      <Block label="Input">{formatInput(state.input)}</Block>
      {state.status === "completed" && <Block label="Output">{state.output ?? ""}</Block>}
      {state.status === "error" && (
        <Block label="Error" tone="danger">
          {state.error ?? ""}
        </Block>
      )}
    </Disclosure>
  );
}

function ThinkingBlock({ text, streaming }: { text: string; streaming: boolean }) {
  const firstLine = text.trim().split("\n")[0] ?? "";
  return (
    <Disclosure
      buttonClassName="h-7 rounded-md pr-2 text-xs text-fg-muted hover:text-fg"
      panelClassName="mt-1 ml-[6px] border-l-2 border-border py-0.5 pl-3"
      summary={(open) => (
        <>
          <Brain size={12} aria-hidden className="shrink-0" />
          <span className="shrink-0 font-medium">{streaming ? "Thinking…" : "Thinking"}</span>
          {!open && firstLine && <span className="min-w-0 truncate text-fg-subtle italic">{firstLine}</span>}
        </>
      )}
    >
      <p className="text-xs leading-relaxed whitespace-pre-wrap text-fg-muted italic">{text}</p>
    </Disclosure>
  );
}

const REPLY_LABELS: Record<PermissionReply, string> = {
  once: "Allowed once",
  always: "Always allowed",
  reject: "Rejected",
};

function PermissionCard({
  part,
  sessionId,
  canAnswer,
}: {
  part: PermissionPart;
  sessionId: string;
  canAnswer: boolean;
}) {
  const answer = useAnswerPermission(sessionId);
  const operator = useCaller().can("operator");
  const preview = inputPreview(part.input);
  const title = part.title || `${part.tool} asks for permission`;
  const reply = (r: PermissionReply) => answer.mutate({ permissionId: part.id, reply: r });
  const disabled = !canAnswer || answer.isPending || answer.isSuccess;
  return (
    <section
      aria-label={`Permission request: ${title}`}
      className={cn(
        "flex flex-col gap-2 rounded-md border px-3 py-2.5",
        part.reply === null ? "border-warning/50 bg-warning-subtle" : "border-border bg-bg-subtle/60",
      )}
    >
      <div className="flex items-start gap-2">
        <ShieldQuestion size={15} aria-hidden className="mt-px shrink-0 text-warning" />
        <div className="flex min-w-0 flex-1 flex-col gap-0.5">
          <p className="text-xs font-medium">{title}</p>
          {preview && <p className="truncate font-mono text-[11px] text-fg-muted">{preview}</p>}
        </div>
        {part.reply !== null && (
          <Badge tone={part.reply === "reject" ? "danger" : "success"}>{REPLY_LABELS[part.reply]}</Badge>
        )}
      </div>
      {part.input !== undefined && part.input !== null && (
        <Disclosure
          buttonClassName="h-6 text-[11px] text-fg-muted hover:text-fg"
          panelClassName="mt-1"
          summary={<span>Details</span>}
        >
          <Block label="Input">{formatInput(part.input)}</Block>
        </Disclosure>
      )}
      {part.reply === null && !operator && (
        <p className="text-[11px] text-fg-muted">Waiting for an operator or admin to answer.</p>
      )}
      {part.reply === null && operator && (
        <div className="flex flex-wrap items-center gap-2">
          <Button size="sm" variant="primary" disabled={disabled} onClick={() => reply("once")}>
            Allow once
          </Button>
          <Button
            size="sm"
            disabled={disabled}
            onClick={() => reply("always")}
            aria-label={`Always allow ${part.tool}`}
          >
            Always
          </Button>
          <Button size="sm" disabled={disabled} onClick={() => reply("reject")}>
            Reject
          </Button>
          {answer.isPending && <span className="text-[11px] text-fg-muted">Sending…</span>}
          {!canAnswer && <span className="text-[11px] text-fg-muted">The turn has ended.</span>}
        </div>
      )}
      {answer.error && (
        <p role="alert" className="text-xs text-danger">
          The answer was not taken: {answer.error.message}
        </p>
      )}
    </section>
  );
}

function Footer({ message }: { message: ThreadMessage }) {
  const { info } = message;
  const bits: ReactNode[] = [];
  if (info.tokens && (info.tokens.input || info.tokens.output)) {
    bits.push(`${COUNT.format(info.tokens.input)} tokens in`, `${COUNT.format(info.tokens.output)} out`);
    if (info.tokens.reasoning) bits.push(`${COUNT.format(info.tokens.reasoning)} reasoning`);
    if (info.tokens.cache.read) bits.push(`${COUNT.format(info.tokens.cache.read)} cached`);
  }
  if (info.cost) bits.push(formatUsd(info.cost));
  if (info.time.completed !== undefined)
    bits.push(formatMs(Math.max(0, info.time.completed - info.time.created)));
  if (bits.length === 0) return null;
  return (
    <p aria-label="Usage" className="text-[11px] text-fg-subtle tabular-nums">
      {bits.map((bit, i) => (
        <span key={i}>
          {i > 0 && <span aria-hidden> · </span>}
          {bit}
        </span>
      ))}
    </p>
  );
}

function Note({ icon, children, tone }: { icon: ReactNode; children: ReactNode; tone?: "warning" }) {
  return (
    <p
      className={cn(
        "flex items-center gap-1.5 text-xs",
        tone === "warning" ? "rounded-md bg-warning-subtle px-2.5 py-1.5 text-warning" : "text-fg-muted",
      )}
    >
      {icon}
      {children}
    </p>
  );
}

export const UserMessage = memo(function UserMessage({
  message,
  queued,
}: {
  message: ThreadMessage;
  seq: number;
  queued?: boolean;
}) {
  const text = message.parts.map((p) => (p.type === "text" ? p.text : "")).join("\n");
  return (
    <article aria-label="Your message" data-role="user" className="flex flex-col items-end gap-1 pl-10">
      <div className="max-w-full rounded-lg rounded-br-sm bg-accent-subtle px-3 py-2 leading-relaxed break-words whitespace-pre-wrap text-fg">
        {text}
      </div>
      {queued && (
        <p className="flex items-center gap-1 text-[11px] text-fg-muted">
          <Clock size={11} aria-hidden />
          Queued: sent once the session is ready
        </p>
      )}
    </article>
  );
});

/**
 * An assistant message, part by part. `seq` (the message's last folded event) is what changes as
 * events are folded into the same objects, so it is what memo compares.
 */
export const AssistantMessage = memo(function AssistantMessage({
  message,
  sessionId,
  running,
  ended,
  stalledMs,
}: {
  message: ThreadMessage;
  seq: number;
  sessionId: string;
  /** This is the running turn's message. */
  running: boolean;
  /** The session has ended: an unfinished message was cut off. */
  ended: boolean;
  /** The turn has been quiet this long (a `stalled` event with nothing after it). */
  stalledMs: number | null;
}) {
  const { info, parts } = message;
  const last = parts.at(-1);
  const hasText = parts.some((p) => p.type === "text" && p.text);
  const asking = parts.some((p) => p.type === "permission" && p.reply === null);
  return (
    <article
      aria-label="Reply from the agent"
      aria-busy={running || undefined}
      data-role="assistant"
      className="grid grid-cols-[22px_minmax(0,1fr)] gap-2.5"
    >
      <span
        aria-hidden
        className="mt-px flex h-[22px] w-[22px] items-center justify-center rounded-full border border-border bg-bg-subtle text-fg-muted"
      >
        <Bot size={13} />
      </span>
      <div className="flex min-w-0 flex-col gap-2">
        {parts.map((part) => {
          switch (part.type) {
            case "text":
              return part.text ? <Markdown key={part.id} text={part.text} /> : null;
            case "reasoning":
              return (
                <ThinkingBlock key={part.id} text={part.text} streaming={running && last?.id === part.id} />
              );
            case "tool":
              return <ToolBlock key={part.id} part={part} />;
            case "permission":
              return <PermissionCard key={part.id} part={part} sessionId={sessionId} canAnswer={running} />;
          }
        })}
        {running && (
          <p className="flex items-center gap-1.5 text-xs text-fg-muted">
            <LoaderCircle size={12} aria-hidden className="text-accent motion-safe:animate-spin" />
            {asking ? "Waiting for your answer…" : hasText ? "Writing…" : "Working…"}
          </p>
        )}
        {running && stalledMs !== null && (
          <Note tone="warning" icon={<Clock size={13} aria-hidden className="shrink-0" />}>
            <span role="status">
              No output for {formatQuiet(stalledMs)}. The agent may be stuck; you can wait or stop the turn.
            </span>
          </Note>
        )}
        {info.error && (
          <div
            role="alert"
            className="flex items-start gap-2 rounded-md border border-danger/40 bg-danger-subtle px-3 py-2 text-xs text-danger"
          >
            <CircleAlert size={14} aria-hidden className="mt-px shrink-0" />
            <p className="min-w-0 break-words">
              <span className="font-medium">The turn failed:</span> {info.error.message}
            </p>
          </div>
        )}
        {info.finish === "aborted" && (
          <Note icon={<CircleStop size={13} aria-hidden className="shrink-0" />}>
            Stopped before it finished.
          </Note>
        )}
        {!running && ended && info.time.completed === undefined && (
          <Note icon={<CircleStop size={13} aria-hidden className="shrink-0" />}>
            Cut off: the session ended during this turn.
          </Note>
        )}
        {info.time.completed !== undefined && !info.error && <Footer message={message} />}
      </div>
    </article>
  );
});
