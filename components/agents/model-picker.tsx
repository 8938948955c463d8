"use client";

import { ChevronDown } from "lucide-react";
import { useEffect, useMemo, useState, type KeyboardEvent } from "react";

import { Badge } from "@/components/ui/badge";
import { cn } from "@/lib/cn";

export type ModelOption = { id: string; owned_by: string | null };

export type ModelPickerProps = {
  id: string;
  value: string;
  onChange: (value: string) => void;
  models: ModelOption[];
  loading: boolean;
  /** Why the list is empty (no gateway, gateway down), from GET /api/v1/models. */
  reason: string | null;
  invalid?: boolean;
  describedBy?: string;
};

// Gateways can list thousands of models; the DOM only needs what a person could scan.
const RENDER_LIMIT = 100;

const listIdOf = (id: string) => `${id}-listbox`;
const optionIdOf = (id: string, i: number) => `${id}-option-${i}`;

function splitModel(id: string): { provider: string | null; name: string } {
  const slash = id.indexOf("/");
  return slash > 0
    ? { provider: id.slice(0, slash), name: id.slice(slash + 1) }
    : { provider: null, name: id };
}

/**
 * A combobox with list autocomplete and manual selection (WAI-ARIA APG): typing filters, arrows
 * move a highlight, Enter takes the highlighted model. Nothing is highlighted after typing, so
 * Enter never swaps a typed model string for a listed one.
 */
export function ModelPicker({
  id,
  value,
  onChange,
  models,
  loading,
  reason,
  invalid,
  describedBy,
}: ModelPickerProps) {
  const [open, setOpen] = useState(false);
  // null: opened without typing, so the whole list shows even when a model is already chosen.
  const [query, setQuery] = useState<string | null>(null);
  const [active, setActive] = useState(-1);
  const listId = listIdOf(id);
  const optionId = (i: number) => optionIdOf(id, i);

  const matches = useMemo(() => {
    const q = query?.trim().toLowerCase() ?? "";
    return q ? models.filter((m) => m.id.toLowerCase().includes(q)) : models;
  }, [models, query]);
  const shown = matches.slice(0, RENDER_LIMIT);
  const activeIndex = active < shown.length ? active : -1;

  useEffect(() => {
    if (!open || activeIndex < 0) return;
    document.getElementById(optionIdOf(id, activeIndex))?.scrollIntoView({ block: "nearest" });
  }, [open, activeIndex, id]);

  function openList() {
    const current = models.findIndex((m) => m.id === value);
    setOpen(true);
    setQuery(null);
    setActive(current < RENDER_LIMIT ? current : -1);
  }

  function close() {
    setOpen(false);
    setActive(-1);
  }

  function pick(model: ModelOption) {
    onChange(model.id);
    close();
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.nativeEvent.isComposing) return;
    const last = shown.length - 1;
    switch (e.key) {
      case "ArrowDown":
      case "ArrowUp": {
        e.preventDefault();
        if (!open) {
          openList();
          return;
        }
        if (e.altKey || last < 0) return;
        const step = e.key === "ArrowDown" ? 1 : -1;
        setActive(
          activeIndex < 0 ? (step > 0 ? 0 : last) : (activeIndex + step + shown.length) % shown.length,
        );
        return;
      }
      case "Home":
      case "End":
        if (!open || last < 0) return;
        e.preventDefault();
        setActive(e.key === "Home" ? 0 : last);
        return;
      case "Enter": {
        if (!open) return;
        // Inside a form, Enter with the list open confirms the model, not the form.
        e.preventDefault();
        const model = shown[activeIndex];
        if (model) pick(model);
        else close();
        return;
      }
      case "Escape":
        if (!open) return;
        // Handled here so an enclosing <dialog> stays open.
        e.preventDefault();
        e.stopPropagation();
        close();
        return;
    }
  }

  const hint = pickerHint({ loading, reason, listed: models.length, matching: matches.length });

  return (
    <div className="relative">
      <div className="relative">
        <input
          id={id}
          role="combobox"
          aria-expanded={open}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={open && activeIndex >= 0 ? optionId(activeIndex) : undefined}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          value={value}
          onChange={(e) => {
            onChange(e.target.value);
            setQuery(e.target.value);
            setActive(-1);
            setOpen(true);
          }}
          onKeyDown={onKeyDown}
          onClick={() => !open && openList()}
          onBlur={close}
          placeholder="anthropic/claude-sonnet-4-6"
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          className="h-8 w-full rounded-md border border-border-strong bg-bg pr-8 pl-2.5 font-mono text-xs text-fg placeholder:text-fg-subtle aria-[invalid=true]:border-danger"
        />
        <ToggleButton
          open={open}
          onClick={() => {
            document.getElementById(id)?.focus();
            if (open) close();
            else openList();
          }}
        />
      </div>

      <ModelListbox
        id={id}
        open={open}
        shown={shown}
        activeIndex={activeIndex}
        value={value}
        hint={hint}
        onHover={setActive}
        onPick={pick}
      />
    </div>
  );
}

/** What the popup says under the list: loading, nothing listed, nothing matching, or a cut list. */
function pickerHint({
  loading,
  reason,
  listed,
  matching,
}: {
  loading: boolean;
  reason: string | null;
  listed: number;
  matching: number;
}) {
  return loading
    ? "Loading models…"
    : listed === 0
      ? `No models listed${reason ? `: ${reason}` : ""} — type any model string`
      : matching === 0
        ? "No listed model matches — the text as typed will be used"
        : matching > RENDER_LIMIT
          ? `Showing ${RENDER_LIMIT} of ${matching} models — type to narrow`
          : null;
}

/** The popup: the shown models as options (reached through the input, never focused) and the hint. */
function ModelListbox({
  id,
  open,
  shown,
  activeIndex,
  value,
  hint,
  onHover,
  onPick,
}: {
  id: string;
  open: boolean;
  shown: ModelOption[];
  activeIndex: number;
  value: string;
  hint: string | null;
  onHover: (index: number) => void;
  onPick: (model: ModelOption) => void;
}) {
  const listId = listIdOf(id);
  const optionId = (i: number) => optionIdOf(id, i);
  // Mouse presses in the popup (options, scrollbar) must not blur the input, which closes it.
  return (
    <div
      hidden={!open}
      onMouseDown={(e) => e.preventDefault()}
      className="absolute z-20 mt-1 w-full overflow-hidden rounded-md border border-border bg-bg shadow-lg"
    >
      <ul
        id={listId}
        role="listbox"
        aria-label="Models"
        className={cn("max-h-72 overflow-y-auto", shown.length > 0 && "py-1")}
      >
        {shown.map((model, i) => {
          const { provider, name } = splitModel(model.id);
          return (
            // Options are reached through the input (aria-activedescendant), never focused.
            <li
              key={model.id}
              id={optionId(i)}
              role="option"
              aria-selected={i === activeIndex}
              onMouseMove={() => i !== activeIndex && onHover(i)}
              onClick={() => onPick(model)}
              className={cn(
                "flex h-8 cursor-pointer items-center gap-2 px-2.5 text-xs",
                i === activeIndex ? "bg-bg-muted text-fg" : "text-fg-muted",
                model.id === value && "font-medium text-fg",
              )}
            >
              {provider && <Badge>{provider}</Badge>}
              <span className="truncate font-mono">{name}</span>
              {model.owned_by && model.owned_by !== provider && (
                <span className="ml-auto shrink-0 text-[11px] text-fg-subtle">{model.owned_by}</span>
              )}
            </li>
          );
        })}
      </ul>
      {hint && (
        <p
          aria-live="polite"
          className={cn("px-2.5 py-2 text-xs text-fg-muted", shown.length > 0 && "border-t border-border")}
        >
          {hint}
        </p>
      )}
    </div>
  );
}

/** The chevron that opens or closes the list. */
function ToggleButton({ open, onClick }: { open: boolean; onClick: () => void }) {
  return (
    <button
      type="button"
      // Out of the tab order, as the APG combobox pattern asks: the input already opens the list.
      tabIndex={-1}
      aria-label={open ? "Hide models" : "Show models"}
      onMouseDown={(e) => e.preventDefault()}
      onClick={onClick}
      className="absolute top-1/2 right-1 grid h-6 w-6 -translate-y-1/2 place-items-center rounded text-fg-subtle hover:bg-bg-muted hover:text-fg"
    >
      <ChevronDown size={14} aria-hidden className={cn("transition-transform", open && "rotate-180")} />
    </button>
  );
}
