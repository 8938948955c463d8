import Link from "next/link";
import type { ComponentProps } from "react";

import { cn } from "@/lib/cn";

// Mirrors <Button>'s look for navigation, which must stay a real link (middle-click, open in new tab).
const VARIANTS = {
  primary: "bg-accent text-accent-fg hover:opacity-90 border border-transparent",
  secondary: "bg-bg border border-border-strong text-fg hover:bg-bg-muted",
  ghost: "border border-transparent text-fg-muted hover:text-fg hover:bg-bg-muted",
};

const SIZES = { sm: "h-7 px-2.5 text-xs gap-1.5", md: "h-8 px-3 text-[13px] gap-2" };

export function LinkButton({
  variant = "secondary",
  size = "md",
  className,
  ...props
}: ComponentProps<typeof Link> & { variant?: keyof typeof VARIANTS; size?: keyof typeof SIZES }) {
  return (
    <Link
      className={cn(
        "inline-flex shrink-0 items-center rounded-md font-medium whitespace-nowrap transition-colors",
        VARIANTS[variant],
        SIZES[size],
        className,
      )}
      {...props}
    />
  );
}
