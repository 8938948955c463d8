import { z } from "zod";

import { envKeyProblem } from "./env-vars";
import {
  betaQuerySchema,
  cursorPageOf,
  cursorQuerySchema,
  lifecycleFields,
  metadataPatchSchema,
  metadataSchema,
} from "./managed-common";

/*
 * Vaults and their credentials (Managed Agents API, /v1/vaults). A credential's secret is write-only:
 * it is sealed at rest and never answered. An `environment_variable` credential is set in the
 * environment of each session given the vault; the other kinds are refused until Hangar can apply them.
 */

const SECRET_MAX = 64 * 1024;

const secretName = z
  .string()
  .min(1)
  .max(128)
  .superRefine((name, ctx) => {
    const problem = envKeyProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const networkingInput = z.discriminatedUnion("type", [
  z.object({ type: z.literal("unrestricted") }),
  z.object({ type: z.literal("limited"), allowed_hosts: z.array(z.string()).max(200) }),
]);

const limitedRefused = (n: { type: string } | null | undefined, ctx: z.RefinementCtx) => {
  if (n?.type === "limited") {
    ctx.addIssue({
      code: "custom",
      path: ["networking"],
      message:
        "limited credential networking needs the proxy to inject the secret, which Hangar does not do; " +
        "the value is set in the sandbox's environment, so use unrestricted",
    });
  }
};

const unsupportedKind = z
  .looseObject({ type: z.enum(["static_bearer", "mcp_oauth"]) })
  .superRefine((a, ctx) => {
    ctx.addIssue({
      code: "custom",
      path: ["type"],
      message: `${a.type} credentials are not supported by Hangar yet`,
    });
  });

export const credentialAuthInputSchema = z.union([
  z
    .object({
      type: z.literal("environment_variable"),
      secret_name: secretName,
      secret_value: z.string().min(1).max(SECRET_MAX),
      networking: networkingInput,
      injection_location: z
        .object({ body: z.boolean().optional(), header: z.boolean().optional() })
        .optional(),
    })
    .superRefine((a, ctx) => limitedRefused(a.networking, ctx)),
  unsupportedKind,
]);

export const credentialAuthUpdateSchema = z.union([
  z
    .object({
      type: z.literal("environment_variable"),
      secret_value: z.string().min(1).max(SECRET_MAX).nullish(),
      networking: networkingInput.nullish(),
      injection_location: z
        .object({ body: z.boolean().optional(), header: z.boolean().optional() })
        .optional(),
    })
    .superRefine((a, ctx) => limitedRefused(a.networking, ctx)),
  unsupportedKind,
]);

/** What is stored of a credential besides its sealed secret, and answered. */
export const credentialAuthSchema = z.object({
  type: z.literal("environment_variable"),
  secret_name: z.string(),
  networking: z.object({ type: z.literal("unrestricted") }),
  injection_location: z.object({ body: z.boolean(), header: z.boolean() }),
});

export type CredentialAuth = z.infer<typeof credentialAuthSchema>;

export const createVaultSchema = z.object({
  display_name: z.string().trim().min(1).max(256),
  metadata: metadataSchema.optional(),
});

export const updateVaultSchema = z.object({
  display_name: z.string().trim().min(1).max(256).nullish(),
  metadata: metadataPatchSchema.nullish(),
});

export const vaultSchema = z.object({
  id: z.string(),
  type: z.literal("vault"),
  display_name: z.string(),
  metadata: z.record(z.string(), z.string()),
  ...lifecycleFields,
});

export const createCredentialSchema = z.object({
  auth: credentialAuthInputSchema,
  display_name: z.string().trim().max(256).nullish(),
  metadata: metadataSchema.optional(),
});

export const updateCredentialSchema = z.object({
  auth: credentialAuthUpdateSchema.optional(),
  display_name: z.string().trim().max(256).nullish(),
  metadata: metadataPatchSchema.nullish(),
});

export const credentialSchema = z.object({
  id: z.string(),
  type: z.literal("vault_credential"),
  vault_id: z.string(),
  display_name: z.string().nullable(),
  auth: credentialAuthSchema.meta({ description: "Never the secret: it is write-only." }),
  metadata: z.record(z.string(), z.string()),
  ...lifecycleFields,
});

export type CreateVaultInput = z.infer<typeof createVaultSchema>;
export type UpdateVaultInput = z.infer<typeof updateVaultSchema>;
export type CreateCredentialInput = z.infer<typeof createCredentialSchema>;
export type UpdateCredentialInput = z.infer<typeof updateCredentialSchema>;
export type Vault = z.infer<typeof vaultSchema>;
export type Credential = z.infer<typeof credentialSchema>;

export const vaultListSchema = cursorPageOf(vaultSchema);
export const credentialListSchema = cursorPageOf(credentialSchema);
export const vaultListQuerySchema = cursorQuerySchema;
export const vaultQuerySchema = betaQuerySchema;
export const credentialParamsSchema = z.object({
  id: z.string().min(1).max(64),
  credential_id: z.string().min(1).max(64),
});
