import "server-only";

import { createHash, timingSafeEqual } from "node:crypto";

import { runtime } from "@/lib/runtime";

import { ApiError } from "./errors";

export type Principal = { kind: "master" };

/** Constant-time check of a presented key against the master key (both hashed to equal length). */
export function isMasterKey(presented: string): boolean {
  const digest = createHash("sha256").update(presented).digest();
  return timingSafeEqual(digest, runtime().masterKeyDigest);
}

export function bearerToken(header: string | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim() ?? null;
}

export function authenticate(req: Request): Principal {
  const token = bearerToken(req.headers.get("authorization"));
  if (!token)
    throw new ApiError("unauthorized", "Missing credentials: send Authorization: Bearer <MASTER_KEY>");
  if (!isMasterKey(token)) throw new ApiError("unauthorized", "Invalid credentials");
  return { kind: "master" };
}
