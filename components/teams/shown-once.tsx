import { TriangleAlert } from "lucide-react";

import { CopyButton } from "@/components/ui/copy-button";

/** A secret the server answers with once (a key, an invite link): selectable, copyable, and said so. */
export function ShownOnce({
  label,
  value,
  warning,
  copyLabel,
}: {
  label: string;
  value: string;
  warning: string;
  copyLabel: string;
}) {
  return (
    <div className="flex flex-col gap-2">
      <p className="flex items-start gap-2 rounded-md bg-warning-subtle px-3 py-2 text-xs text-fg">
        <TriangleAlert size={14} aria-hidden className="mt-px shrink-0 text-warning" />
        <span>{warning}</span>
      </p>
      <div className="flex items-center gap-2">
        <output
          aria-label={label}
          className="min-w-0 flex-1 rounded-md border border-border-strong bg-bg-subtle px-2.5 py-1.5 font-mono text-xs break-all text-fg select-all"
        >
          {value}
        </output>
        <CopyButton text={value} label={copyLabel} />
      </div>
    </div>
  );
}
