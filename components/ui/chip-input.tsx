"use client";

import { X } from "lucide-react";
import { useRef, useState, type ClipboardEvent, type KeyboardEvent } from "react";

import { cn } from "@/lib/cn";

export type ChipInputProps = {
  id: string;
  /** Accessible name of the text input (and, with " entries", of the chip list). */
  label: string;
  values: string[];
  onChange: (values: string[]) => void;
  /** A problem with one typed value, or null when it may be added. */
  validate?: (value: string) => string | null;
  /** Applied before validating and comparing, e.g. lower-casing host names. */
  normalize?: (value: string) => string;
  /** Server errors by chip index: those chips show red, with the messages listed below. */
  errors?: Record<number, string>;
  max?: number;
  placeholder?: string;
  /** Extra ids for aria-describedby, e.g. a hint rendered by the caller. */
  describedBy?: string;
};

/**
 * Splits `tokens` into those the list takes (trimmed, normalized, new, within `max`, valid) and those
 * it rejects, with the reasons.
 */
function acceptTokens(
  values: string[],
  tokens: string[],
  { normalize, validate, max }: Pick<ChipInputProps, "normalize" | "validate" | "max">,
) {
  const next = [...values];
  const rejected: string[] = [];
  const problems: string[] = [];
  for (const raw of tokens) {
    const token = normalize ? normalize(raw.trim()) : raw.trim();
    if (!token) continue;
    const problem = next.includes(token)
      ? `${token} is already in the list`
      : max !== undefined && next.length >= max
        ? `at most ${max} entries`
        : (validate?.(token) ?? null);
    if (problem) {
      rejected.push(raw.trim());
      problems.push(problem);
    } else {
      next.push(token);
    }
  }
  return { next, rejected, problems };
}

const SEPARATORS = /[\s,]+/;

export function ChipInput({
  id,
  label,
  values,
  onChange,
  validate,
  normalize,
  errors,
  max,
  placeholder,
  describedBy,
}: ChipInputProps) {
  const inputRef = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const errorId = `${id}-chip-error`;
  const listErrorsId = `${id}-chip-errors`;
  const chipErrors = Object.entries(errors ?? {})
    .map(([index, message]) => ({ index: Number(index), message }))
    .filter(({ index }) => index >= 0 && index < values.length);

  /** Adds every acceptable token; rejected ones stay in the box with the reasons shown below. */
  function add(tokens: string[]) {
    const { next, rejected, problems } = acceptTokens(values, tokens, { normalize, validate, max });
    if (next.length !== values.length) onChange(next);
    setText(rejected.join(", "));
    setError(problems.length ? [...new Set(problems)].join("; ") : null);
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.nativeEvent.isComposing) return;
    if (e.key === "Enter" || e.key === ",") {
      // A comma is never part of a value; Enter must not submit the surrounding form mid-entry.
      if (e.key === "," || text.trim()) e.preventDefault();
      if (text.trim()) add([text]);
    } else if (e.key === "Backspace" && text === "" && values.length > 0) {
      e.preventDefault();
      onChange(values.slice(0, -1));
      setError(null);
    }
    // Tab is left to the browser: the blur it causes commits the text (see onBlur), and focus
    // still moves on, so a rejected value never traps the keyboard.
  }

  function onPaste(e: ClipboardEvent<HTMLInputElement>) {
    const pasted = e.clipboardData.getData("text");
    if (!SEPARATORS.test(pasted.trim())) return;
    e.preventDefault();
    const input = e.currentTarget;
    const start = input.selectionStart ?? text.length;
    const end = input.selectionEnd ?? text.length;
    add((text.slice(0, start) + pasted + text.slice(end)).split(SEPARATORS));
  }

  function remove(index: number) {
    onChange(values.filter((_, i) => i !== index));
    // The button that had focus is gone; keep the keyboard user inside the control.
    inputRef.current?.focus();
  }

  const describedByIds = [describedBy, error ? errorId : null, chipErrors.length ? listErrorsId : null]
    .filter(Boolean)
    .join(" ");

  return (
    <div className="flex flex-col gap-1.5">
      {/* Clicking the padding of the box should land in the input, as with a plain text field. */}
      <div
        onClick={(e) => {
          if (e.target === e.currentTarget) inputRef.current?.focus();
        }}
        className={cn(
          "flex min-h-8 flex-wrap items-center gap-1 rounded-md border bg-bg px-1.5 py-1 focus-within:outline-2 focus-within:outline-offset-1 focus-within:outline-ring",
          error || chipErrors.length ? "border-danger" : "border-border-strong",
        )}
      >
        {values.length > 0 && (
          <ul aria-label={`${label} entries`} className="contents">
            {values.map((value, i) => (
              <Chip key={`${i}:${value}`} value={value} error={errors?.[i]} onRemove={() => remove(i)} />
            ))}
          </ul>
        )}
        <input
          ref={inputRef}
          id={id}
          aria-label={label}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedByIds || undefined}
          value={text}
          placeholder={values.length === 0 ? placeholder : undefined}
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          onChange={(e) => {
            setText(e.target.value);
            if (error) setError(null);
          }}
          onKeyDown={onKeyDown}
          // The box draws the focus ring; a second one on the bare input inside it would be noise.
          style={{ outline: "none" }}
          onPaste={onPaste}
          onBlur={() => {
            // Text typed but never confirmed would otherwise be lost silently on save.
            if (text.trim()) add([text]);
          }}
          className="h-6 min-w-32 flex-1 bg-transparent px-1 font-mono text-xs text-fg placeholder:font-sans placeholder:text-fg-subtle"
        />
      </div>
      {error && (
        <p id={errorId} role="alert" className="text-xs text-danger">
          {error}
        </p>
      )}
      {chipErrors.length > 0 && (
        <ul id={listErrorsId} className="flex flex-col gap-0.5 text-xs text-danger">
          {chipErrors.map(({ index, message }) => (
            <li key={index}>
              <span className="font-mono">{values[index]}</span>: {message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Chip({
  value,
  error,
  onRemove,
}: {
  value: string;
  error: string | undefined;
  onRemove: () => void;
}) {
  return (
    <li
      title={error}
      className={cn(
        "inline-flex h-6 max-w-full items-center gap-0.5 rounded border pl-1.5 font-mono text-xs",
        error ? "border-danger bg-danger-subtle text-danger" : "border-border bg-bg-muted text-fg",
      )}
    >
      <span className="truncate">{value}</span>
      {error && <span className="sr-only">(invalid: {error})</span>}
      <button
        type="button"
        aria-label={`Remove ${value}`}
        onClick={onRemove}
        className="grid h-5 w-5 shrink-0 place-items-center rounded text-fg-subtle hover:bg-bg-subtle hover:text-fg"
      >
        <X size={12} aria-hidden />
      </button>
    </li>
  );
}
