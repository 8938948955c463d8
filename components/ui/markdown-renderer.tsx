import type { ComponentPropsWithoutRef } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";

import { cn } from "@/lib/cn";

/*
 * Markdown from an untrusted source (a model's reply). react-markdown builds React elements, never
 * HTML strings: raw HTML in the source comes out as text, and unsafe URLs (javascript:, data:) are
 * dropped by its default URL transform. Images are shown as links, so a reply cannot make the
 * browser fetch a remote URL by itself.
 */

const COMPONENTS: Components = {
  p: ({ node: _node, ...props }) => <p className="whitespace-pre-wrap" {...props} />,
  // An unsafe URL arrives here emptied: the text stays, without a link.
  a: ({ node: _node, className, href, ...props }) =>
    href ? (
      <a
        {...props}
        href={href}
        target="_blank"
        rel="noopener noreferrer nofollow"
        className={cn("text-accent underline underline-offset-2 hover:decoration-2", className)}
      />
    ) : (
      <span className={className}>{props.children}</span>
    ),
  img: ({ src, alt }) =>
    typeof src === "string" && src ? (
      <a
        href={src}
        target="_blank"
        rel="noopener noreferrer nofollow"
        className="text-accent underline underline-offset-2"
      >
        {alt || "image"}
      </a>
    ) : (
      <span>{alt}</span>
    ),
  ul: ({ node: _node, ...props }) => <ul className="list-disc pl-5 marker:text-fg-subtle" {...props} />,
  ol: ({ node: _node, ...props }) => <ol className="list-decimal pl-5 marker:text-fg-subtle" {...props} />,
  li: ({ node: _node, ...props }) => <li className="pl-0.5 [&>ol]:mt-1 [&>p]:my-1 [&>ul]:mt-1" {...props} />,
  h1: ({ node: _node, ...props }) => <h3 className="text-[15px] font-semibold" {...props} />,
  h2: ({ node: _node, ...props }) => <h3 className="text-sm font-semibold" {...props} />,
  h3: ({ node: _node, ...props }) => <h3 className="text-[13px] font-semibold" {...props} />,
  h4: ({ node: _node, ...props }) => <h4 className="text-[13px] font-semibold" {...props} />,
  h5: ({ node: _node, ...props }) => <h5 className="text-[13px] font-semibold" {...props} />,
  h6: ({ node: _node, ...props }) => <h6 className="text-[13px] font-semibold text-fg-muted" {...props} />,
  blockquote: ({ node: _node, ...props }) => (
    <blockquote className="border-l-2 border-border-strong pl-3 text-fg-muted" {...props} />
  ),
  hr: () => <hr className="border-border" />,
  pre: ({ node: _node, ...props }) => (
    <pre
      // A long line scrolls sideways; focusable so a keyboard can scroll it.
      tabIndex={0}
      className="overflow-x-auto rounded-md border border-border bg-bg-subtle p-3 font-mono text-xs leading-relaxed [&>code]:border-0 [&>code]:bg-transparent [&>code]:p-0"
      {...props}
    />
  ),
  code: ({ node: _node, className, ...props }: ComponentPropsWithoutRef<"code"> & { node?: unknown }) => (
    <code
      className={cn(
        "rounded border border-border bg-bg-muted px-1 py-px font-mono text-[0.92em] break-words",
        className,
      )}
      {...props}
    />
  ),
  table: ({ node: _node, ...props }) => (
    <div className="overflow-x-auto">
      <table className="border-collapse text-xs" {...props} />
    </div>
  ),
  th: ({ node: _node, ...props }) => (
    <th className="border border-border bg-bg-subtle px-2 py-1 text-left font-medium" {...props} />
  ),
  td: ({ node: _node, ...props }) => <td className="border border-border px-2 py-1 align-top" {...props} />,
};

const PLUGINS = [remarkGfm];

export default function MarkdownRenderer({ text, className }: { text: string; className?: string }) {
  return (
    <div className={cn("flex min-w-0 flex-col gap-2.5 leading-relaxed break-words", className)}>
      <ReactMarkdown remarkPlugins={PLUGINS} components={COMPONENTS}>
        {text}
      </ReactMarkdown>
    </div>
  );
}
