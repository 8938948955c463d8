"use client";

import { useEffect, useId, useRef, type ReactNode } from "react";

import { cn } from "@/lib/cn";

import { Button } from "./button";

export type DialogSize = "md" | "lg";

// "lg" fits a two-column editor (the env var editor: name, value, and its meters on one line).
const WIDTHS: Record<DialogSize, string> = {
  md: "w-[min(440px,calc(100vw-32px))]",
  lg: "w-[min(640px,calc(100vw-32px))]",
};

/**
 * A modal on the native <dialog>: focus is trapped and Escape closes it, for free. The title's id
 * comes from useId, so dialogs mounted at the same time (one opened from another) keep their own
 * names. A body taller than the window scrolls; the title and the footer stay in view.
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
  footer,
  size = "md",
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  footer?: ReactNode;
  size?: DialogSize;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      onClose={(e) => {
        // `close` does not bubble in the DOM, but React passes it up its own tree: a dialog opened
        // from inside this one (Paste .env) must not close this one too.
        if (e.target === e.currentTarget) onClose();
      }}
      aria-labelledby={titleId}
      className={cn(
        // `open:flex`, not `flex`: an author `display` would show the dialog while it is closed.
        "m-auto max-h-[calc(100dvh-32px)] flex-col rounded-lg border border-border bg-bg p-0 text-fg shadow-xl backdrop:bg-black/40 open:flex",
        WIDTHS[size],
      )}
    >
      <h2 id={titleId} className="px-4 pt-4 pb-3 text-sm font-semibold">
        {title}
      </h2>
      <div className="min-h-0 flex-1 overflow-y-auto px-4 pb-4 text-[13px] text-fg-muted">{children}</div>
      {footer && (
        <div className="flex justify-end gap-2 border-t border-border bg-bg-subtle px-4 py-3">{footer}</div>
      )}
    </dialog>
  );
}

export function ConfirmDialog({
  open,
  title,
  body,
  confirmLabel,
  pending,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  pending?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={title}
      footer={
        <>
          <Button onClick={onClose} autoFocus>
            Cancel
          </Button>
          <Button variant="danger" onClick={onConfirm} disabled={pending}>
            {pending ? "Working…" : confirmLabel}
          </Button>
        </>
      }
    >
      {body}
    </Dialog>
  );
}

/** A form dialog's footer: Cancel, and the button that submits the form `formId` (busy while it runs). */
export function FormDialogButtons({
  formId,
  label,
  busyLabel,
  busy,
  onCancel,
}: {
  formId: string;
  label: string;
  busyLabel: string;
  busy: boolean;
  onCancel: () => void;
}) {
  return (
    <>
      <Button onClick={onCancel}>Cancel</Button>
      <Button variant="primary" type="submit" form={formId} disabled={busy}>
        {busy ? busyLabel : label}
      </Button>
    </>
  );
}
