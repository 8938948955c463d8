"use client";

import { LogIn } from "lucide-react";
import { useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";

import { getAuthProviders, oidcStartUrl } from "@/lib/api-client/oidc";
import { oidcErrorMessage } from "@/lib/schemas/oidc";

/**
 * "Sign in with <provider>", when an OIDC provider is configured (GET /api/v1/auth/providers), and
 * the reason a sign-in was refused: the callback sends the browser back to /login with
 * `?oidc_error=<code>`, turned into a sentence here (an unknown code shows nothing).
 */
export function OidcButton({ next }: { next: string }) {
  const params = useSearchParams();
  const refused = oidcErrorMessage(params.get("oidc_error"), params.get("email"));
  const [name, setName] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    getAuthProviders()
      .then((providers) => live && setName(providers.oidc?.name ?? null))
      .catch(() => live && setName(null));
    return () => {
      live = false;
    };
  }, []);

  if (!name && !refused) return null;
  return (
    <div className="flex flex-col gap-2">
      {refused ? (
        <p role="alert" className="text-xs text-danger">
          {refused}
        </p>
      ) : null}
      {name ? (
        <a
          href={oidcStartUrl(next)}
          className="inline-flex h-8 items-center justify-center gap-2 rounded-md border border-border-strong bg-bg px-3 text-[13px] font-medium whitespace-nowrap text-fg transition-colors hover:bg-bg-muted"
        >
          <LogIn size={14} aria-hidden />
          Sign in with {name}
        </a>
      ) : null}
    </div>
  );
}
