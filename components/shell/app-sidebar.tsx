"use client";

import { BookOpen, Bot, FileCode2, KeyRound, LogOut, ScrollText, SquareTerminal, Users } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState } from "react";

import { ThemeToggle } from "@/components/theme";
import { Button } from "@/components/ui/button";
import { logout, useCaller } from "@/lib/api-client/auth";
import { cn } from "@/lib/cn";
import type { WorkspaceRole } from "@/lib/schemas/roles";

import { CallerCard, WorkspaceSwitcher } from "./workspace-switcher";

const NAV: { href: string; label: string; icon: typeof Bot; needs?: WorkspaceRole }[] = [
  { href: "/agents", label: "Agents", icon: Bot },
  { href: "/sessions", label: "Sessions", icon: SquareTerminal },
  { href: "/skills", label: "Skills", icon: BookOpen },
  { href: "/members", label: "Members", icon: Users },
  { href: "/api-keys", label: "API keys", icon: KeyRound, needs: "admin" },
  { href: "/audit", label: "Audit", icon: ScrollText, needs: "admin" },
  { href: "/docs/api", label: "API reference", icon: FileCode2 },
];

export function AppSidebar() {
  const pathname = usePathname();
  const [leaving, setLeaving] = useState(false);
  const { can } = useCaller();
  return (
    <nav
      aria-label="Main"
      className="sticky top-0 flex h-dvh w-52 shrink-0 flex-col border-r border-border bg-bg-subtle"
    >
      <div className="flex h-14 items-center gap-2 px-4">
        <div
          aria-hidden
          className="grid h-6 w-6 place-items-center rounded-md bg-accent text-[11px] font-bold text-accent-fg"
        >
          H
        </div>
        <span className="text-[13px] font-semibold">Hangar</span>
      </div>
      <div className="px-2 pb-3">
        <WorkspaceSwitcher />
      </div>
      <ul className="flex flex-col gap-0.5 px-2">
        {NAV.filter((item) => !item.needs || can(item.needs)).map(({ href, label, icon: Icon }) => {
          const active = pathname === href || pathname.startsWith(href + "/");
          return (
            <li key={href}>
              <Link
                href={href}
                aria-current={active ? "page" : undefined}
                className={cn(
                  "flex h-8 items-center gap-2 rounded-md px-2 text-[13px]",
                  active
                    ? "bg-bg-muted font-medium text-fg"
                    : "text-fg-muted hover:bg-bg-muted hover:text-fg",
                )}
              >
                <Icon size={15} aria-hidden />
                {label}
              </Link>
            </li>
          );
        })}
      </ul>
      <div className="mt-auto flex flex-col gap-1 border-t border-border p-2">
        <CallerCard />
        <ThemeToggle />
        <Button
          variant="ghost"
          size="sm"
          disabled={leaving}
          onClick={async () => {
            setLeaving(true);
            await logout().catch(() => undefined);
            // A full load drops every cached query along with the login.
            // eslint-disable-next-line @next/next/no-location-assign-relative-destination
            window.location.assign("/login");
          }}
        >
          <LogOut size={14} aria-hidden />
          Log out
        </Button>
      </div>
    </nav>
  );
}
