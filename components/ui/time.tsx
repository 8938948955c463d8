"use client";

import { useSyncExternalStore } from "react";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function formatRelative(iso: string, now: number): string {
  const then = new Date(iso).getTime();
  const ago = now - then;
  if (ago < 45_000) return "just now";
  if (ago < HOUR) return `${Math.max(1, Math.round(ago / MINUTE))} min ago`;
  if (ago < DAY) {
    const hours = Math.round(ago / HOUR);
    return hours === 1 ? "1 hour ago" : `${hours} hours ago`;
  }
  if (ago < 2 * DAY) return "yesterday";
  if (ago < 30 * DAY) return `${Math.floor(ago / DAY)} days ago`;
  const date = new Date(then);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(undefined, {
    month: "short",
    day: "numeric",
    year: sameYear ? undefined : "numeric",
  });
}

function subscribeMinutes(onTick: () => void) {
  const timer = setInterval(onTick, MINUTE / 4);
  return () => clearInterval(timer);
}
const currentMinute = () => Math.floor(Date.now() / MINUTE) * MINUTE;

/** The current time to the minute in the browser, null during server rendering. */
function useNow(): number | null {
  return useSyncExternalStore(subscribeMinutes, currentMinute, () => null);
}

/**
 * "3 min ago" with the exact time on hover. Rendered after mount, so server and browser agree
 * (their clocks and locales differ), and kept true on a page left open.
 */
export function RelativeTime({ iso, className }: { iso: string; className?: string }) {
  const now = useNow();
  return (
    <time dateTime={iso} title={now === null ? iso : new Date(iso).toLocaleString()} className={className}>
      {now === null ? iso.slice(0, 10) : formatRelative(iso, now)}
    </time>
  );
}
