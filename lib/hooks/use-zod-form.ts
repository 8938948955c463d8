import { zodResolver } from "@hookform/resolvers/zod";
import { useForm, type FieldValues, type Path, type UseFormProps, type UseFormReturn } from "react-hook-form";
import type { z } from "zod";

import { ApiClientError } from "@/lib/api-client/fetcher";

/** react-hook-form driven by one of the shared zod schemas (input type in, output type out). */
export function useZodForm<S extends z.ZodType<FieldValues, FieldValues>>(
  schema: S,
  options?: Omit<UseFormProps<z.input<S>, unknown, z.output<S>>, "resolver">,
) {
  return useForm<z.input<S>, unknown, z.output<S>>({
    resolver: zodResolver(schema),
    mode: "onTouched",
    ...options,
  });
}

/**
 * Puts a 400's `issues` on the fields they name; returns the message for anything no field shows
 * (shown near the submit button), or null when every issue found its field.
 */
export function applyServerErrors<T extends FieldValues>(
  form: UseFormReturn<T, unknown, FieldValues>,
  err: unknown,
  fields: readonly string[],
): string | null {
  if (!(err instanceof ApiClientError)) return "Something went wrong. Try again.";
  if (err.issues.length === 0) return err.message;
  let unplaced: string | null = null;
  let focused = false;
  for (const issue of err.issues) {
    const top = String(issue.path[0] ?? "");
    if (fields.includes(top)) {
      const path = issue.path.length ? issue.path.join(".") : top;
      // Focus only the first field: moving focus on would blur (and re-validate) the others.
      form.setError(path as Path<T>, { type: "server", message: issue.message }, { shouldFocus: !focused });
      focused = true;
    } else {
      unplaced ??= issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
    }
  }
  return unplaced;
}
