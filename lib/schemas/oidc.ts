import { z } from "zod";

/** GET /api/v1/auth/providers: the sign-in providers besides passwords and the master key. */
export const authProvidersSchema = z.object({
  /** The configured OpenID Connect provider (its button says "Sign in with <name>"), or null. */
  oidc: z.object({ name: z.string() }).nullable(),
});

export type AuthProviders = z.infer<typeof authProvidersSchema>;

/** GET /api/v1/auth/oidc/start: where to land after signing in (a path of this origin). */
export const oidcStartQuerySchema = z.object({ next: z.string().optional() });

/**
 * The provider's answer at GET /api/v1/auth/oidc/callback. Every field is optional and loose: what is
 * missing or wrong is refused by the sign-in itself, with a redirect to the login page, not a 400.
 */
export const oidcCallbackQuerySchema = z.object({
  code: z.string().optional(),
  state: z.string().optional(),
  iss: z.string().optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/**
 * Why an OIDC sign-in was refused. The callback redirects to `/login?oidc_error=<code>` (and
 * `&email=` where the message names it); the login page shows `oidcErrorMessage`. Codes rather than
 * free text, so a crafted link cannot make the login page say anything it likes.
 */
export const OIDC_ERRORS = {
  not_configured: "Single sign-on is not configured on this Hangar",
  unavailable: "The sign-in provider could not be reached: try again, or log in another way",
  cancelled: "Sign-in was cancelled at the provider",
  expired: "This sign-in took too long or was started in another browser: start again",
  rejected: "The sign-in could not be verified: start again, or ask an admin to check the provider settings",
  no_email: "The provider sent no email address: ask an admin (Hangar needs the email scope)",
  unverified_email: "The provider has not verified {email}: verify it there first",
  no_account: "No Hangar account for {email}: ask an admin to invite you",
  linked_elsewhere: "The Hangar account for {email} is linked to another sign-in: ask an admin",
  disabled: "Your account is disabled: ask an admin",
  no_workspace: "You are not a member of any workspace: ask an admin to invite you",
} as const;

export type OidcErrorCode = keyof typeof OIDC_ERRORS;

export function isOidcErrorCode(code: unknown): code is OidcErrorCode {
  return typeof code === "string" && Object.hasOwn(OIDC_ERRORS, code);
}

/** The sentence for a refusal code, or null for an unknown code (then show nothing). */
export function oidcErrorMessage(code: unknown, email?: string | null): string | null {
  if (!isOidcErrorCode(code)) return null;
  const shown = email && z.email().safeParse(email).success ? email : "this email";
  return OIDC_ERRORS[code].replace("{email}", shown);
}
