import { Search } from "lucide-react";
import { forwardRef, type InputHTMLAttributes } from "react";

import { cn } from "@/lib/cn";

import { Input } from "./input";

/** A search box with its icon; `wrapperClassName` sizes it. The caller gives it an aria-label. */
export const SearchInput = forwardRef<
  HTMLInputElement,
  InputHTMLAttributes<HTMLInputElement> & { wrapperClassName?: string }
>(function SearchInput({ wrapperClassName, className, ...props }, ref) {
  return (
    <div className={cn("relative", wrapperClassName)}>
      <Search
        size={14}
        aria-hidden
        className="pointer-events-none absolute top-1/2 left-2.5 -translate-y-1/2 text-fg-subtle"
      />
      <Input ref={ref} type="search" className={cn("pl-8", className)} {...props} />
    </div>
  );
});
