import { infiniteQueryOptions } from "@tanstack/react-query";
import type { z } from "zod";

import type { auditPageSchema, AuditQuery } from "@/lib/schemas/audit";

import { apiFetch, queryString } from "./fetcher";

const BASE = "/api/v1/audit";

export type AuditPage = z.infer<typeof auditPageSchema>;
/** The filters of the audit page, as the API takes them (all optional). */
export type AuditFilters = Partial<Pick<AuditQuery, "actor" | "action" | "resource" | "since" | "until">>;

const PAGE_SIZE = 100;

export const auditQueries = {
  all: () => ["audit"] as const,
  /** The log oldest first, page after page by `next_cursor`. */
  list: (filters: AuditFilters) =>
    infiniteQueryOptions({
      queryKey: [...auditQueries.all(), "list", filters],
      queryFn: ({ pageParam }) =>
        apiFetch<AuditPage>(BASE + queryString({ ...filters, cursor: pageParam, limit: PAGE_SIZE })),
      initialPageParam: undefined as number | undefined,
      getNextPageParam: (last) => last.next_cursor ?? undefined,
    }),
};

/** The JSON lines export of the same filters (a download link, sent with the login cookie). */
export function auditExportUrl(filters: AuditFilters) {
  return `${BASE}/export${queryString(filters)}`;
}
