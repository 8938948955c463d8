"use client";

import { ArrowUp, Square } from "lucide-react";
import { useId, useState, type KeyboardEvent } from "react";

import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/input";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { useAbortTurn, useSendMessage } from "@/lib/api-client/sessions";

function sendError(err: Error): string | null {
  if (!(err instanceof ApiClientError)) return `The message was not sent: ${err.message}`;
  // A turn that fails answers 502 once it ends; the thread already shows that error.
  if (err.status === 502) return null;
  if (err.status === 409) return `Not sent (409): ${err.message}`;
  if (err.status === 410) return `Not sent (410): ${err.message}`;
  return `The message was not sent: ${err.message}`;
}

/**
 * The message box under the thread. Enter sends, Shift+Enter starts a new line. While a turn runs
 * the box stays editable (to draft the next message) but sending waits; Stop aborts the turn.
 */
export function ChatComposer({
  sessionId,
  harness,
  running,
  onSent,
}: {
  sessionId: string;
  harness: string;
  running: boolean;
  onSent: () => void;
}) {
  const id = useId();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const send = useSendMessage(sessionId);
  const abort = useAbortTurn(sessionId);
  // The POST answers only when the turn ends, so it is pending for as long as the turn runs.
  const busy = running || send.isPending;
  const canSend = !busy && text.trim().length > 0;

  const submit = () => {
    if (!canSend) return;
    const message = text;
    setError(null);
    setText("");
    onSent();
    send.mutate(message, {
      onError: (err) => {
        const shown = sendError(err);
        if (!shown) return;
        setError(shown);
        // Give the text back, unless a new draft has been started.
        setText((draft) => draft || message);
      },
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key !== "Enter" || e.shiftKey || e.nativeEvent.isComposing) return;
    e.preventDefault();
    submit();
  };

  const hint = running
    ? "The agent is working. You can write the next message and send it when this turn ends."
    : "Enter to send, Shift+Enter for a new line.";

  return (
    <form
      className="flex flex-col gap-2 border-t border-border p-3"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label htmlFor={`${id}-text`} className="sr-only">
        Message to {harness}
      </label>
      <Textarea
        id={`${id}-text`}
        aria-describedby={`${id}-hint${error ? ` ${id}-error` : ""}`}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        rows={2}
        placeholder={`Message ${harness}…`}
        className="field-sizing-content max-h-60 min-h-[58px] resize-none"
      />
      <div className="flex items-center justify-between gap-3">
        <p id={`${id}-hint`} className="text-[11px] text-fg-subtle">
          {hint}
        </p>
        <div className="flex shrink-0 items-center gap-2">
          {running && (
            <Button
              size="sm"
              onClick={() =>
                abort.mutate(undefined, { onError: (err) => setError(`Stop failed: ${err.message}`) })
              }
              disabled={abort.isPending}
              aria-label="Stop the turn"
            >
              <Square size={12} aria-hidden />
              {abort.isPending ? "Stopping…" : "Stop"}
            </Button>
          )}
          <Button size="sm" variant="primary" type="submit" disabled={!canSend} aria-label="Send message">
            <ArrowUp size={13} aria-hidden />
            Send
          </Button>
        </div>
      </div>
      {error && (
        <p id={`${id}-error`} role="alert" className="text-xs text-danger">
          {error}
        </p>
      )}
    </form>
  );
}
