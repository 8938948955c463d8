"use client";

import { useEffect, useRef, type ReactNode } from "react";

import { Button } from "./button";

/** A modal on the native <dialog>: focus is trapped and Escape closes it, for free. */
export function Dialog({
  open,
  onClose,
  title,
  children,
  footer,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  footer?: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      aria-labelledby="dialog-title"
      className="m-auto w-[min(440px,calc(100vw-32px))] rounded-lg border border-border bg-bg p-0 text-fg shadow-xl backdrop:bg-black/40"
    >
      <div className="flex flex-col gap-3 p-4">
        <h2 id="dialog-title" className="text-sm font-semibold">
          {title}
        </h2>
        <div className="text-[13px] text-fg-muted">{children}</div>
      </div>
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
