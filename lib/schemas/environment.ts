import { z } from "zod";

import { egressRuleSchema } from "./egress";
import {
  betaQuerySchema,
  cursorPageOf,
  cursorQuerySchema,
  lifecycleFields,
  metadataPatchSchema,
  metadataSchema,
} from "./managed-common";

/*
 * Environments (Managed Agents API, /v1/environments): where a session runs. Hangar enforces
 * `networking` with its egress proxy and installs `packages.pip` at boot; the other package managers
 * are refused rather than silently ignored (docs/managed-agents.md, "Capabilities").
 */

const unrestrictedSchema = z.object({ type: z.literal("unrestricted") });

const limitedInputSchema = z.object({
  type: z.literal("limited"),
  allowed_hosts: z.array(egressRuleSchema).max(200).nullish(),
  allow_package_managers: z.boolean().nullish(),
  allow_mcp_servers: z.boolean().nullish(),
});

const packageList = z.array(z.string().trim().min(1).max(256)).max(200).nullish();

/** A pip requirement line: a name with an optional version spec, nothing pip would treat as an option. */
const PIP_PACKAGE =
  /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?\s*([<>=!~]=?\s*[A-Za-z0-9.*+!-]+\s*,?\s*)*$/;

const packagesInputSchema = z
  .object({
    type: z.literal("packages").optional(),
    pip: z
      .array(
        z
          .string()
          .trim()
          .min(1)
          .max(256)
          .regex(PIP_PACKAGE, "must be a package name with an optional version"),
      )
      .max(200)
      .nullish(),
    npm: packageList,
    apt: packageList,
    cargo: packageList,
    gem: packageList,
    go: packageList,
  })
  .superRefine((p, ctx) => {
    for (const manager of ["npm", "apt", "cargo", "gem", "go"] as const) {
      if (p[manager]?.length) {
        ctx.addIssue({
          code: "custom",
          path: [manager],
          message: `${manager} packages are not supported by Hangar's sandboxes yet; pip is`,
        });
      }
    }
  });

export const environmentConfigInputSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("cloud"),
    networking: z.discriminatedUnion("type", [unrestrictedSchema, limitedInputSchema]).nullish(),
    packages: packagesInputSchema.nullish(),
  }),
  z.object({ type: z.literal("self_hosted") }),
]);

const limitedSchema = z.object({
  type: z.literal("limited"),
  allowed_hosts: z.array(z.string()),
  allow_package_managers: z.boolean(),
  allow_mcp_servers: z.boolean(),
});

const packagesSchema = z.object({
  type: z.literal("packages"),
  pip: z.array(z.string()),
  npm: z.array(z.string()),
  apt: z.array(z.string()),
  cargo: z.array(z.string()),
  gem: z.array(z.string()),
  go: z.array(z.string()),
});

/** The stored (and answered) config: every field present. */
export const environmentConfigSchema = z.object({
  type: z.literal("cloud"),
  networking: z.discriminatedUnion("type", [unrestrictedSchema, limitedSchema]),
  packages: packagesSchema,
});

export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;
export type EnvironmentConfigInput = z.infer<typeof environmentConfigInputSchema>;

export const createEnvironmentSchema = z.object({
  name: z.string().trim().min(1).max(256),
  description: z.string().max(2048).nullish(),
  config: environmentConfigInputSchema.nullish(),
  metadata: metadataSchema.optional(),
  scope: z.enum(["organization", "account"]).nullish(),
});

export const updateEnvironmentSchema = z.object({
  name: z.string().trim().min(1).max(256).nullish(),
  description: z.string().max(2048).nullish(),
  config: environmentConfigInputSchema.nullish(),
  metadata: metadataPatchSchema.nullish(),
  scope: z.enum(["organization", "account"]).nullish(),
});

export type CreateEnvironmentInput = z.infer<typeof createEnvironmentSchema>;
export type UpdateEnvironmentInput = z.infer<typeof updateEnvironmentSchema>;

export const environmentSchema = z.object({
  id: z.string(),
  type: z.literal("environment"),
  name: z.string(),
  description: z.string().nullable(),
  config: environmentConfigSchema,
  metadata: z.record(z.string(), z.string()),
  scope: z.literal("organization"),
  ...lifecycleFields,
});

export type Environment = z.infer<typeof environmentSchema>;

export const environmentListQuerySchema = cursorQuerySchema;
export const environmentListSchema = cursorPageOf(environmentSchema);
export const environmentQuerySchema = betaQuerySchema;
