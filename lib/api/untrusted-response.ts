import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/*
 * Headers for a response a sandbox wrote (the opencode proxy) but Hangar's origin serves. A sandbox may
 * be hostile, and anything it gets a logged-in browser to run or store under Hangar's origin could use
 * the login. So only headers that describe the body pass (an allow-list, not a deny-list: a header
 * nobody thought of stays out); nothing that sets origin state does (Set-Cookie, Clear-Site-Data,
 * Refresh, Link, Service-Worker-Allowed, CORS, its own CSP); and whatever the type, the document it
 * could become is sandboxed: no script, no same-origin, no framing. Types a browser could render as an
 * active document (HTML, SVG, XML, unknown) are also downloads, never pages.
 */

const PASS = new Set([
  "content-type",
  "content-length",
  "content-encoding",
  "content-language",
  "content-range",
  "accept-ranges",
  "etag",
  "last-modified",
  "vary",
  "date",
  "allow",
  "retry-after",
]);

/** Types served inline: the API's own (JSON, event streams) and plain text and pixels. */
const INLINE = /^(application\/json|text\/event-stream|text\/plain|image\/(png|jpeg|gif|webp|avif))$/;

export const UNTRUSTED_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'; form-action 'none'";

function mediaType(value: string | undefined): string {
  return (value ?? "").split(";")[0]!.trim().toLowerCase();
}

/** A Location only when it stays on this origin (a relative path); else the redirect loses it. */
function sameOriginLocation(value: string | undefined): string | undefined {
  if (!value || !value.startsWith("/") || value.startsWith("//") || /[\\\u0000-\u001f]/.test(value)) {
    return undefined;
  }
  const base = "http://h";
  return new URL(value, base).origin === base ? value : undefined;
}

export function untrustedResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && PASS.has(name)) out[name] = value;
  }
  const location = sameOriginLocation(upstream.location);
  if (location) out.location = location;
  const type = mediaType(upstream["content-type"]);
  if (!type) out["content-type"] = "application/octet-stream";
  if (!INLINE.test(type)) out["content-disposition"] = "attachment";
  out["content-security-policy"] = UNTRUSTED_CSP;
  out["x-content-type-options"] = "nosniff";
  out["cross-origin-resource-policy"] = "same-origin";
  out["x-frame-options"] = "DENY";
  // Answers carry a login's data: no shared cache keeps them, whatever the sandbox says.
  out["cache-control"] = "no-store";
  return out;
}
