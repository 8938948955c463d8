"use client";

import { lazy, Suspense } from "react";

import { cn } from "@/lib/cn";

// The parser is loaded with the first reply, not with the page.
const MarkdownRenderer = lazy(() => import("./markdown-renderer"));

/**
 * Untrusted markdown (a model's reply) as React elements: paragraphs, lists, code, tables, links.
 * Until the parser has loaded, the text shows as it is.
 */
export function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <Suspense
      fallback={<p className={cn("leading-relaxed break-words whitespace-pre-wrap", className)}>{text}</p>}
    >
      <MarkdownRenderer text={text} className={className} />
    </Suspense>
  );
}
