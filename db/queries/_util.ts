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
