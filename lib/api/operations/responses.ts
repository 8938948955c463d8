import { errorEnvelopeSchema } from "@/lib/schemas/common";

/** An error response: the shared envelope, with what the status means for this operation. */
export const err = (description: string) => ({ description, schema: errorEnvelopeSchema });

export const invalid = err("Malformed JSON, or a field breaks a rule (see `issues`)");
export const missing = err("No such resource");
export const conflict = err("Stale `expected_version`");
