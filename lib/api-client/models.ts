import { queryOptions } from "@tanstack/react-query";

import type { ModelList } from "@/lib/schemas/model";

import { apiFetch } from "./fetcher";

export const modelQueries = {
  list: () =>
    queryOptions({
      queryKey: ["models"],
      queryFn: () => apiFetch<ModelList>("/api/v1/models"),
      staleTime: 5 * 60_000,
    }),
};
