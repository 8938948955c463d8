"use client";

import { useId } from "react";

import { ChipInput } from "@/components/ui/chip-input";
import { FieldError } from "@/components/ui/field";
import { cn } from "@/lib/cn";
import { EGRESS_RULES_MAX, egressRuleKind, egressRuleSchema } from "@/lib/schemas/egress";

export type EgressRules = { allow: string[]; deny: string[] };

export type EgressEditorProps = EgressRules & {
  onChange: (next: EgressRules) => void;
  /** Host of Hangar's model gateway, or null when none is configured. */
  gatewayHost: string | null;
  errors?: { allow?: Record<number, string>; deny?: Record<number, string>; form?: string };
};

const PRESETS: { label: string; hosts: string[] }[] = [
  { label: "GitHub", hosts: ["github.com", "*.github.com", "*.githubusercontent.com"] },
  { label: "npm", hosts: ["registry.npmjs.org"] },
  { label: "PyPI", hosts: ["pypi.org", "files.pythonhosted.org"] },
];

function validateRule(value: string): string | null {
  if (egressRuleKind(value) !== null) return null;
  // Take the schema's own wording so the form and the API never disagree.
  const result = egressRuleSchema.safeParse(value);
  return result.success ? null : (result.error.issues[0]?.message ?? `"${value}" is not a valid rule`);
}

// Host names are case-insensitive; lower-casing keeps "GitHub.com" from duplicating "github.com".
const normalizeRule = (value: string) => value.toLowerCase();

export function EgressEditor({ allow, deny, onChange, gatewayHost, errors }: EgressEditorProps) {
  const id = useId();
  const gateway = gatewayHost && egressRuleKind(gatewayHost) ? normalizeRule(gatewayHost) : null;
  const presets = [...PRESETS, { label: "Model gateway", hosts: gateway ? [gateway] : [] }];

  function togglePreset(hosts: string[], pressed: boolean) {
    const next = pressed
      ? allow.filter((rule) => !hosts.includes(rule))
      : [...allow, ...hosts.filter((host) => !allow.includes(host))];
    onChange({ allow: next, deny });
  }

  return (
    <div className="flex flex-col gap-4">
      <p id={`${id}-explain`} className="text-xs text-fg-muted">
        Deny always wins. With no allowed hosts, everything not denied may go out; with any, only those hosts
        (and Hangar&apos;s model gateway) are reachable.
      </p>

      <div className="flex flex-col gap-1.5">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <label htmlFor={`${id}-allow`} className="text-xs font-medium text-fg">
            Allowed hosts
          </label>
          <div role="group" aria-label="Add a preset to allowed hosts" className="flex flex-wrap gap-1">
            {presets.map(({ label, hosts }) => {
              const unavailable = hosts.length === 0;
              const pressed = !unavailable && hosts.every((host) => allow.includes(host));
              return (
                <button
                  key={label}
                  type="button"
                  aria-pressed={pressed}
                  // aria-disabled rather than disabled: the button stays focusable, so keyboard and
                  // screen-reader users can still learn why it does nothing.
                  aria-disabled={unavailable || undefined}
                  title={
                    unavailable
                      ? "No model gateway is configured (LITELLM_API_BASE), so there is no host to add."
                      : `${pressed ? "Remove" : "Add"} ${hosts.join(", ")}`
                  }
                  onClick={() => {
                    if (!unavailable) togglePreset(hosts, pressed);
                  }}
                  className={cn(
                    "h-6 rounded border px-2 text-[11px] font-medium transition-colors",
                    pressed
                      ? "border-transparent bg-accent-subtle text-accent"
                      : "border-border-strong bg-bg text-fg-muted hover:bg-bg-muted hover:text-fg",
                    unavailable && "cursor-not-allowed opacity-50 hover:bg-bg hover:text-fg-muted",
                  )}
                >
                  {label}
                </button>
              );
            })}
          </div>
        </div>
        <ChipInput
          id={`${id}-allow`}
          label="Allowed hosts"
          values={allow}
          onChange={(next) => onChange({ allow: next, deny })}
          validate={validateRule}
          normalize={normalizeRule}
          errors={errors?.allow}
          max={EGRESS_RULES_MAX}
          placeholder="api.example.com, *.example.com, 10.0.0.0/8"
          describedBy={`${id}-explain`}
        />
      </div>

      <div className="flex flex-col gap-1.5">
        <label htmlFor={`${id}-deny`} className="text-xs font-medium text-fg">
          Denied hosts
        </label>
        <ChipInput
          id={`${id}-deny`}
          label="Denied hosts"
          values={deny}
          onChange={(next) => onChange({ allow, deny: next })}
          validate={validateRule}
          normalize={normalizeRule}
          errors={errors?.deny}
          max={EGRESS_RULES_MAX}
          placeholder="169.254.169.254, *.internal"
          describedBy={`${id}-explain`}
        />
      </div>

      <FieldError message={errors?.form} />
    </div>
  );
}
