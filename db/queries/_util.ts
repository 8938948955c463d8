/** A LIKE pattern that matches `term` anywhere, with the user's % and _ taken literally. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function iso(date: Date): string {
  return date.toISOString();
}
