import { Controller, type UseFormReturn } from "react-hook-form";

import { ChipInput } from "@/components/ui/chip-input";
import { describedBy, Field, FieldError } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Section } from "@/components/ui/page-header";
import type { AgentFormInput, AgentFormValues } from "@/lib/schemas/agent";
import type { ModelList } from "@/lib/schemas/model";

import { EgressEditor } from "./egress-editor";
import { EnvVarEditor } from "./env-var-editor";
import { childMessages, fileMessages, ownMessage } from "./form-errors";
import { HarnessPicker } from "./harness-picker";
import { ModelPicker } from "./model-picker";
import { SandboxFilesEditor, storedFileHref } from "./sandbox-files-editor";

export type AgentFormApi = UseFormReturn<AgentFormInput, unknown, AgentFormValues>;

export const emptyToNull = (v: unknown) => (v === "" ? null : v);

/** The form's "Basics": name, model (picked from the gateway's list) and harness. */
export function BasicsSection({
  form: { register, control },
  errors,
  models,
}: {
  form: AgentFormApi;
  errors: Record<string, unknown>;
  models: { data: ModelList | undefined; isLoading: boolean };
}) {
  const err = (name: string) => ownMessage(errors[name]);
  return (
    <Section id="basics" title="Basics" description="What runs, and which model it talks to.">
      <Field id="name" label="Name" hint="Shown in lists; need not be unique." error={err("name")}>
        <Input
          {...describedBy("name", err("name"))}
          placeholder="pr-reviewer"
          {...register("name", { setValueAs: emptyToNull })}
        />
      </Field>
      <Field
        id="model"
        label="Model"
        hint={
          models.data?.source === "builtin"
            ? "Built-in test model: no model gateway is configured (LITELLM_API_BASE), so sessions get " +
              "Hangar's scripted replies whatever model string you enter."
            : "A model string of the gateway, e.g. anthropic/claude-sonnet-4-6."
        }
        error={err("model")}
      >
        <Controller
          control={control}
          name="model"
          render={({ field }) => (
            <ModelPicker
              id="model"
              value={field.value ?? ""}
              onChange={field.onChange}
              models={models.data?.data ?? []}
              loading={models.isLoading}
              reason={models.data?.reason ?? null}
              invalid={Boolean(err("model"))}
              describedBy={err("model") ? "model-error" : "model-hint"}
            />
          )}
        />
      </Field>
      <div className="flex flex-col gap-1.5">
        <span id="harness-label" className="text-xs font-medium">
          Harness
        </span>
        <Controller
          control={control}
          name="harness_id"
          render={({ field }) => (
            <HarnessPicker name="harness_id" value={field.value ?? "opencode"} onChange={field.onChange} />
          )}
        />
        <FieldError message={err("harness_id")} />
      </div>
    </Section>
  );
}

/** What the sandbox gets: environment, network rules, files and MCP servers. */
export function SandboxSections({
  form: { control },
  errors,
  models,
  storedEnvKeys,
  agentId,
  defaultValues,
}: {
  form: AgentFormApi;
  errors: Record<string, unknown>;
  models: { data: ModelList | undefined };
  /** Secrets the agent stores: their values show as the mask and can only be replaced or removed. */
  storedEnvKeys: string[];
  agentId: string | undefined;
  /** The stored files' download links come from the values the form started with. */
  defaultValues: AgentFormInput;
}) {
  return (
    <>
      <Section
        id="env"
        title="Environment"
        description="Secrets and settings for every session. Values are write-only: once saved they can be replaced or removed, never read back."
      >
        <Controller
          control={control}
          name="env_vars"
          render={({ field }) => (
            <EnvVarEditor
              value={field.value ?? {}}
              onChange={field.onChange}
              storedKeys={storedEnvKeys}
              errors={childMessages(errors.env_vars)}
              formError={ownMessage(errors.env_vars)}
            />
          )}
        />
      </Section>

      <Section
        id="network"
        title="Network"
        description="Where the sandbox may connect. Enforced by Hangar's egress proxy."
      >
        <Controller
          control={control}
          name="allow_out"
          render={({ field: allow }) => (
            <Controller
              control={control}
              name="deny_out"
              render={({ field: deny }) => (
                <EgressEditor
                  allow={allow.value ?? []}
                  deny={deny.value ?? []}
                  gatewayHost={models.data?.gateway_host ?? null}
                  onChange={(next) => {
                    allow.onChange(next.allow);
                    deny.onChange(next.deny);
                  }}
                  errors={{
                    allow: childMessages(errors.allow_out),
                    deny: childMessages(errors.deny_out),
                    form: ownMessage(errors.allow_out) ?? ownMessage(errors.deny_out),
                  }}
                />
              )}
            />
          )}
        />
      </Section>

      <Section
        id="files"
        title="Sandbox files"
        description="Written into the sandbox before the harness starts. Up to 20 files, 10 MB in all."
      >
        <Controller
          control={control}
          name="sandbox_files"
          render={({ field }) => (
            <SandboxFilesEditor
              value={field.value ?? []}
              onChange={field.onChange}
              errors={fileMessages(errors.sandbox_files)}
              formError={ownMessage(errors.sandbox_files)}
              downloadHref={agentId ? storedFileHref(agentId, storedFiles(defaultValues)) : undefined}
            />
          )}
        />
      </Section>

      <Section
        id="mcp"
        title="MCP servers"
        description="Connection strings of MCP servers the harness may use."
      >
        <Controller
          control={control}
          name="mcp_servers"
          render={({ field }) => (
            <ChipInput
              id="mcp_servers"
              label="MCP servers"
              values={field.value ?? []}
              onChange={field.onChange}
              placeholder="Add a server and press Enter"
              errors={Object.fromEntries(
                Object.entries(childMessages(errors.mcp_servers)).map(([k, v]) => [Number(k), v]),
              )}
            />
          )}
        />
      </Section>
    </>
  );
}

/** The files the agent stores, by position, as the download links need them. */
function storedFiles(values: AgentFormInput) {
  return (values.sandbox_files ?? []).flatMap((file, index) =>
    "sha256" in file ? [{ index, sha256: file.sha256 }] : [],
  );
}
