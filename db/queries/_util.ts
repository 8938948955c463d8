import { ValidationError } from "@/lib/errors";

/** A LIKE pattern that matches `term` anywhere, with the user's % and _ taken literally. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function iso(date: Date): string {
  return date.toISOString();
}

/** Where a page starts and how long it is: every list's `limit` and `offset` query parameters. */
export type PageWindow = { limit: number; offset: number };

/** One page of a list, with the count of every row that matched. */
export type Page<T> = PageWindow & { data: T[]; total: number };

/** A select that is already filtered and ordered, still waiting for its window. */
type Windowable<R> = { limit(limit: number): { offset(offset: number): PromiseLike<R[]> } };

/**
 * Reads one page and the total in parallel. Both queries must use the same filter; the caller
 * builds them, so the page and the count cannot drift apart by accident of a second code path.
 */
export async function readPage<R>(
  window: PageWindow,
  rows: Windowable<R>,
  total: PromiseLike<{ value: number }[]>,
): Promise<Page<R>> {
  const [data, [counted]] = await Promise.all([rows.limit(window.limit).offset(window.offset), total]);
  return { data, total: counted?.value ?? 0, limit: window.limit, offset: window.offset };
}

/**
 * Keyset pages over ids (ids are ULIDs, so they sort by creation time): the cursor is an opaque
 * token for the last id of a page, and the next page starts after it. One more row than asked is read
 * to know whether a next page exists.
 */
export function encodeCursor(id: string): string {
  return `page_${Buffer.from(id, "utf8").toString("base64url")}`;
}

export function decodeCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const id = cursor.startsWith("page_") ? Buffer.from(cursor.slice(5), "base64url").toString("utf8") : "";
  if (!/^[a-z]{2,5}_[0-9a-z]{26}$/.test(id))
    throw new ValidationError("page: not a cursor this list gave out", []);
  return id;
}

export type CursorPage<T> = { data: T[]; next_page: string | null };

export function toCursorPage<T>(rows: T[], limit: number, idOf: (row: T) => string): CursorPage<T> {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, next_page: rows.length > limit && last ? encodeCursor(idOf(last)) : null };
}
