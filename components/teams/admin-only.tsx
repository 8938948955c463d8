"use client";

import { Lock } from "lucide-react";
import type { ReactNode } from "react";

import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { useCaller } from "@/lib/api-client/auth";

/** A page only admins use: others get a sentence saying so instead of a 403 from every request. */
export function AdminOnly({ title, children }: { title: string; children: ReactNode }) {
  const { caller, can } = useCaller();
  if (!caller) return <div className="h-14 border-b border-border" aria-busy="true" />;
  if (can("admin")) return children;
  return (
    <>
      <PageHeader title={title} />
      <EmptyState
        icon={<Lock size={24} aria-hidden />}
        title={`${title}: admins only`}
        body={`Your role in ${caller.workspace.name} is ${caller.role}. Ask an admin if you need this.`}
      />
    </>
  );
}
