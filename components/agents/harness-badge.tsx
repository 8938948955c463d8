import { Badge } from "@/components/ui/badge";
import { HARNESSES, type HarnessId } from "@/lib/schemas/harness";

export function HarnessBadge({ harness }: { harness: HarnessId }) {
  const info = HARNESSES[harness];
  return (
    <span className="inline-flex items-center gap-1.5">
      <span>{info.label}</span>
      <Badge tone={info.kind === "tui" ? "warning" : "accent"}>{info.kind.toUpperCase()}</Badge>
    </span>
  );
}
