"use client";

import { useId, useMemo, useState } from "react";

import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Textarea } from "@/components/ui/input";
import { parseDotenv } from "@/lib/dotenv";

export function EnvPasteDialog({
  open,
  onClose,
  onApply,
}: {
  open: boolean;
  onClose: () => void;
  onApply: (entries: [string, string][]) => void;
}) {
  const id = useId();
  const [text, setText] = useState("");
  const parsed = useMemo(() => parseDotenv(text), [text]);
  const count = parsed.entries.length;

  // Pasted secrets should not linger in a hidden dialog after it closes.
  function close() {
    setText("");
    onClose();
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title="Paste .env"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button
            variant="primary"
            disabled={count === 0}
            onClick={() => {
              onApply(parsed.entries);
              close();
            }}
          >
            {count === 1 ? "Add 1 variable" : `Add ${count} variables`}
          </Button>
        </>
      }
    >
      <div className="flex flex-col gap-2">
        <label htmlFor={`${id}-text`} className="text-xs font-medium text-fg">
          Contents of a .env file
        </label>
        <Textarea
          id={`${id}-text`}
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-describedby={`${id}-summary`}
          rows={10}
          wrap="off"
          spellCheck={false}
          autoComplete="off"
          placeholder={'# comments are ignored\nexport API_TOKEN=abc123\nGREETING="hello\\nworld"'}
          className="font-mono text-xs"
        />
        <p id={`${id}-summary`} aria-live="polite" className="text-xs text-fg-muted">
          {text.trim() === ""
            ? "KEY=VALUE per line. Keys already in the list get the pasted value."
            : `${count} ${count === 1 ? "variable" : "variables"} found${
                parsed.errors.length
                  ? `; ${parsed.errors.length} line(s) could not be read and will be skipped`
                  : ""
              }.`}
        </p>
        {parsed.errors.length > 0 && (
          <ul className="flex max-h-28 flex-col gap-0.5 overflow-y-auto text-xs text-danger">
            {parsed.errors.map(({ line, text: raw }) => (
              <li key={line} className="truncate">
                Line {line}: <span className="font-mono">{raw.trim()}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Dialog>
  );
}
