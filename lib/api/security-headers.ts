/*
 * The headers every response of the app carries (server.ts sets them before routing, so pages, the
 * API, static files and errors all get them). The policy: scripts only from this origin and, for
 * pages, inline ones with this response's nonce (Next puts it on its own scripts; the root layout on
 * the theme script); no plugins, no <base>, forms post only here, no framing by anyone, WebSockets
 * only to this host (the terminal). Styles allow inline: React's style attributes and xterm.js's
 * injected sheets need it. HSTS only for requests that came over TLS.
 */

/** The Host header as a CSP source, or null when it is not a plain host[:port]. */
function hostSource(host: string | undefined): string | null {
  if (!host) return null;
  return /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/.test(host) ? host : null;
}

export function contentSecurityPolicy(opts: { nonce?: string; host?: string; dev?: boolean }): string {
  const host = hostSource(opts.host);
  const script = ["'self'"];
  if (opts.nonce) script.push(`'nonce-${opts.nonce}'`);
  // Next's development runtime (React refresh) evaluates code; production never does.
  if (opts.dev) script.push("'unsafe-eval'");
  const connect = ["'self'", ...(host ? [`ws://${host}`, `wss://${host}`] : [])];
  return [
    "default-src 'self'",
    `script-src ${script.join(" ")}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connect.join(" ")}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(opts: { csp: string; secure: boolean }): Record<string, string> {
  return {
    "content-security-policy": opts.csp,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
    ...(opts.secure ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
  };
}
