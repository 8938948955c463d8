"use client";

import { Eye, EyeOff, Trash2 } from "lucide-react";

import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

export type EnvRow = {
  id: string;
  key: string;
  value: string;
  /** Shown as a masked placeholder; the API keeps the stored secret. */
  stored: boolean;
  /** The key came from the server with a stored secret (still true after "Replace"). */
  fromStore: boolean;
  revealed: boolean;
};

export type EnvRowField = "key" | "value" | "remove";

export function EnvVarRow({
  row,
  index,
  domId,
  problem,
  onEdit,
  onReplace,
  onRemove,
  refFor,
}: {
  row: EnvRow;
  index: number;
  /** Unique per editor instance; prefixes the ids that tie errors to inputs. */
  domId: string;
  problem: string | null;
  onEdit: (patch: Partial<Pick<EnvRow, "key" | "value" | "revealed">>) => void;
  onReplace: () => void;
  onRemove: () => void;
  refFor: (field: EnvRowField) => (el: HTMLElement | null) => void;
}) {
  const name = row.key || `variable ${index + 1}`;
  const errorId = `${domId}-error`;
  const hintId = `${domId}-hint`;
  const replacing = row.fromStore && !row.stored;

  return (
    <li className="grid grid-cols-[minmax(0,2fr)_minmax(0,3fr)_auto] items-start gap-2">
      <Input
        ref={refFor("key")}
        value={row.key}
        // A stored secret cannot move to another name without its value, which the browser never
        // sees; renaming would send the mask for a key the server holds nothing for.
        readOnly={row.fromStore}
        onChange={(e) => onEdit({ key: e.target.value })}
        aria-label={`Name of variable ${index + 1}`}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? errorId : undefined}
        placeholder="NAME"
        autoComplete="off"
        autoCapitalize="off"
        spellCheck={false}
        className="font-mono text-xs read-only:bg-bg-subtle read-only:text-fg-muted"
      />

      {row.stored ? (
        <div className="flex h-8 items-center gap-2 rounded-md border border-border bg-bg-subtle pr-1 pl-2.5">
          <span className="flex-1 truncate text-xs text-fg-muted">
            <span aria-hidden className="font-mono">
              ••••••••
            </span>{" "}
            stored
          </span>
          <Button
            ref={refFor("value")}
            size="sm"
            variant="ghost"
            onClick={onReplace}
            aria-label={`Replace value of ${name}`}
          >
            Replace
          </Button>
        </div>
      ) : (
        <div className="flex flex-col gap-1">
          <div className="relative">
            <Input
              ref={refFor("value")}
              type={row.revealed ? "text" : "password"}
              value={row.value}
              onChange={(e) => onEdit({ value: e.target.value })}
              aria-label={`Value of ${name}`}
              aria-describedby={replacing ? hintId : undefined}
              placeholder={replacing ? "New value" : "value"}
              // Secrets: keep password managers from offering to save or fill them.
              autoComplete="off"
              data-1p-ignore
              data-lpignore="true"
              spellCheck={false}
              className="pr-8 font-mono text-xs"
            />
            <button
              type="button"
              onClick={() => onEdit({ revealed: !row.revealed })}
              aria-label={`${row.revealed ? "Hide" : "Show"} value of ${name}`}
              aria-pressed={row.revealed}
              className="absolute top-1/2 right-1 grid h-6 w-6 -translate-y-1/2 place-items-center rounded text-fg-subtle hover:bg-bg-muted hover:text-fg"
            >
              {row.revealed ? <EyeOff size={14} aria-hidden /> : <Eye size={14} aria-hidden />}
            </button>
          </div>
          {replacing && (
            <p id={hintId} className="text-xs text-fg-muted">
              Leave empty to keep the stored value.
            </p>
          )}
        </div>
      )}

      <Button
        ref={refFor("remove")}
        size="icon"
        variant="ghost"
        onClick={onRemove}
        aria-label={`Remove ${name}`}
        className="mt-0.5"
      >
        <Trash2 size={14} aria-hidden />
      </Button>

      {problem && (
        <p id={errorId} role="alert" className="col-span-3 -mt-1 text-xs text-danger">
          {problem}
        </p>
      )}
    </li>
  );
}
