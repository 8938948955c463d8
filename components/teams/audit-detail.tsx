import type { ReactNode } from "react";

const MAX = 80;

function show(value: unknown): string {
  if (value === null || value === undefined) return "none";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text;
}

function isChange(value: unknown): value is { from: unknown; to: unknown } {
  return typeof value === "object" && value !== null && "from" in value && "to" in value;
}

function Change({ field, from, to }: { field: string; from: unknown; to: unknown }) {
  return (
    <li className="min-w-0">
      <span className="font-medium text-fg">{field}</span>:{" "}
      <span className="line-through decoration-fg-subtle">{show(from)}</span>{" "}
      <span aria-label="changed to">→</span> <span className="text-fg">{show(to)}</span>
    </li>
  );
}

/**
 * An entry's `detail`, readable: changed fields as from → to, the names of secrets touched (never
 * their values: the log holds none), and any other fact as `name: value`.
 */
export function AuditDetail({ detail }: { detail: Record<string, unknown> }) {
  const items: ReactNode[] = [];
  for (const [key, value] of Object.entries(detail)) {
    if (key === "changed" && typeof value === "object" && value !== null) {
      for (const [field, change] of Object.entries(value))
        if (isChange(change)) items.push(<Change key={`c-${field}`} field={field} {...change} />);
    } else if (isChange(value)) {
      items.push(<Change key={key} field={key} {...value} />);
    } else if (Array.isArray(value) && (key === "secrets_touched" || key === "env_vars_named")) {
      if (value.length === 0) continue;
      items.push(
        <li key={key}>
          <span className="font-medium text-fg">
            {key === "secrets_touched" ? "secrets touched" : "env vars named"}
          </span>
          : {value.map(String).join(", ")}
        </li>,
      );
    } else {
      items.push(
        <li key={key} className="min-w-0">
          <span className="font-medium text-fg">{key}</span>: {show(value)}
        </li>,
      );
    }
  }
  if (items.length === 0) return <span className="text-fg-subtle">—</span>;
  return <ul className="flex min-w-0 flex-col gap-0.5 break-words">{items}</ul>;
}
