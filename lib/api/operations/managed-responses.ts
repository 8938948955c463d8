import { anthropicErrorSchema } from "@/lib/schemas/managed-common";

/** Responses of the Managed Agents facade (/v1): Anthropic's error envelope. */
export const aerr = (description: string) => ({ description, schema: anthropicErrorSchema });

export const ainvalid = aerr("A field breaks a rule, or asks for what Hangar does not support");
export const amissing = aerr("No such resource");

export const FACADE = { envelope: "anthropic" as const, tag: "Managed Agents API" };
