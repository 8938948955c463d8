// @ts-check
// Terminal state: whatever happens, the local terminal gets its mode back.

/** Undo steps for the local terminal, run last-first by restore() (on exit, on error, on detach). */
export const terminalGuard = {
  /** @type {(() => unknown)[]} */
  restorers: [],
  /** @param {() => unknown} fn */
  track(fn) {
    this.restorers.push(fn);
  },
  restore() {
    for (const fn of this.restorers.splice(0).reverse()) {
      try {
        fn();
      } catch {
        // best effort: the terminal may already be gone
      }
    }
  },
};

/**
 * Watches the remote program's output for the terminal modes it switches on (alternate screen,
 * mouse reporting, bracketed paste, hidden cursor, the kitty keyboard protocol...) so they can be
 * switched off again locally when we leave, without touching modes it never used.
 */
export class ModeTracker {
  // DECCKM, cursor visibility, alternate screens, mouse reporting, focus events, bracketed paste,
  // synchronized output.
  static TRACKED = new Set("1 25 47 1047 1049 1000 1002 1003 1004 1005 1006 1015 2004 2026".split(" "));

  constructor() {
    /** @type {Map<string, boolean>} */
    this.modes = new Map();
    this.kitty = 0;
    this.carry = "";
  }

  /** @param {Buffer} buffer */
  scan(buffer) {
    let s = this.carry + buffer.toString("latin1");
    this.carry = "";
    const lastEsc = s.lastIndexOf("\x1b");
    if (lastEsc >= 0 && s.length - lastEsc < 32) {
      const tail = s.slice(lastEsc);
      if (!/^\x1b(?:\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|[^[])/.test(tail)) {
        this.carry = tail;
        s = s.slice(0, lastEsc);
      }
    }
    for (const m of s.matchAll(/\x1b\[\?([\d;]*)([hl])/g)) {
      for (const n of (m[1] ?? "").split(";"))
        if (ModeTracker.TRACKED.has(n)) this.modes.set(n, m[2] === "h");
    }
    for (const m of s.matchAll(/\x1b\[([<>])(\d*)u/g)) {
      if (m[1] === ">") this.kitty += 1;
      else this.kitty = Math.max(0, this.kitty - (Number(m[2]) || 1));
    }
  }

  /** Escape sequences that undo what the remote program set. */
  reset() {
    let seq = "\x1b[0m";
    if (this.kitty > 0) seq += `\x1b[<${this.kitty}u`;
    for (const [mode, on] of this.modes) {
      if (mode === "25") {
        if (!on) seq += "\x1b[?25h";
      } else if (on) {
        seq += `\x1b[?${mode}l`;
      }
    }
    const alt = ["47", "1047", "1049"].some((m) => this.modes.get(m));
    seq += "\x1b>\x1b[0 q";
    // In the main screen the remote UI may sit anywhere: continue below it.
    if (!alt) seq += "\x1b[999;1H\r\n";
    this.modes.clear();
    this.kitty = 0;
    return seq;
  }
}
