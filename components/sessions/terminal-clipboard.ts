import type { Terminal } from "@xterm/xterm";
import { useSyncExternalStore } from "react";

const subscribeNever = () => () => {};
const clipboardReadable = () => typeof navigator.clipboard?.readText === "function";

/** Whether the page may read the clipboard (a paste button); false while rendering on the server. */
export function useCanPaste() {
  return useSyncExternalStore(subscribeNever, clipboardReadable, () => false);
}

/** navigator.clipboard needs a secure context; a self-hosted Hangar on plain http falls back to execCommand. */
export async function writeClipboard(text: string) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Fall through.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

/**
 * xterm's key handler for the clipboard shortcuts: `false` keeps a key from the program. Ctrl/Cmd+Shift+C
 * runs `copy`.
 */
export function clipboardKeys(term: Terminal, copy: () => void) {
  return (e: KeyboardEvent) => {
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.shiftKey && e.code === "KeyC") {
      if (e.type === "keydown") {
        e.preventDefault();
        copy();
      }
      return false;
    }
    // Ctrl/Cmd+Shift+V: the browser pastes into xterm's textarea, and xterm brackets the paste
    // when the program asked for bracketed paste.
    if (mod && e.shiftKey && e.code === "KeyV") return false;
    // Cmd+C with a selection copies (the browser's copy event); without one it is the program's.
    if (e.metaKey && !e.shiftKey && e.code === "KeyC" && term.hasSelection()) return false;
    return true;
  };
}
