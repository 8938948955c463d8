/** The cells and header row of the teams pages' tables, as the skills table draws them. */
export const CELL = "px-3 first:pl-6 last:pr-6";
export const HEAD = "h-8 border-b border-border text-left text-xs text-fg-muted";
export const ROW = "h-11 border-b border-border hover:bg-bg-subtle";
