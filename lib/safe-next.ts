/*
 * Where to go after logging in. Only a path of this origin: `/x`, never `//x`, `/\x` (browsers read a
 * backslash as a slash), their percent-encoded forms, `javascript:` or any other scheme, and nothing
 * with control characters (a tab or newline inside is dropped by URL parsers). Client-safe: the login
 * page and its form both use it.
 */

export const AFTER_LOGIN = "/agents";

const BASE = "http://h";
const UNSAFE = /[\u0000-\u001f\u007f\\]/;

function looksOffSite(path: string): boolean {
  return !path.startsWith("/") || path.startsWith("//") || UNSAFE.test(path);
}

export function safeNextPath(next: unknown): string {
  if (typeof next !== "string" || next === "" || next.length > 2048 || looksOffSite(next)) return AFTER_LOGIN;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return AFTER_LOGIN;
  }
  if (looksOffSite(decoded)) return AFTER_LOGIN;
  const url = new URL(next, BASE);
  // Dot segments can collapse into a leading `//` (`/.//x`): the parsed result is checked too.
  const target = url.pathname + url.search + url.hash;
  if (url.origin !== BASE || looksOffSite(target)) return AFTER_LOGIN;
  return target;
}
