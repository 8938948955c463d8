import type { ITerminalOptions } from "@xterm/xterm";

/**
 * The terminal is dark in both page themes: the TUIs are set up for a dark background (Claude Code's
 * `theme: "dark"`), and light text on a light page would be unreadable. The colours come from the
 * app's dark palette, so the pane sits well on either page.
 */
export const TERMINAL_BACKGROUND = "#0f0f12";

export const TERMINAL_FONT_SIZE = 13;

export const TERMINAL_OPTIONS: ITerminalOptions = {
  fontFamily: '"SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace',
  fontSize: TERMINAL_FONT_SIZE,
  lineHeight: 1.1,
  scrollback: 5000,
  cursorBlink: true,
  allowProposedApi: false,
  macOptionIsMeta: true,
  rightClickSelectsWord: true,
  theme: {
    background: TERMINAL_BACKGROUND,
    foreground: "#e4e4e7",
    cursor: "#e4e4e7",
    cursorAccent: TERMINAL_BACKGROUND,
    selectionBackground: "#818cf855",
    selectionInactiveBackground: "#818cf833",
    scrollbarSliderBackground: "#ffffff22",
    scrollbarSliderHoverBackground: "#ffffff38",
    scrollbarSliderActiveBackground: "#ffffff50",
    black: "#27272a",
    red: "#f87171",
    green: "#4ade80",
    yellow: "#facc15",
    blue: "#60a5fa",
    magenta: "#c084fc",
    cyan: "#22d3ee",
    white: "#d4d4d8",
    brightBlack: "#71717a",
    brightRed: "#fca5a5",
    brightGreen: "#86efac",
    brightYellow: "#fde047",
    brightBlue: "#93c5fd",
    brightMagenta: "#d8b4fe",
    brightCyan: "#67e8f9",
    brightWhite: "#fafafa",
  },
};
