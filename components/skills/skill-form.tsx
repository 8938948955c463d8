"use client";

import type { ReactNode } from "react";
import type { UseFormRegisterReturn } from "react-hook-form";

import { describedBy, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

import { SkillEditor } from "./skill-editor";

/** The fields a 400 can point at; anything else is shown next to the submit button. */
export const SKILL_FIELDS = ["name", "description", "content"] as const;

export type SkillFieldErrors = { name?: string; description?: string; content?: string };

/**
 * Name, description and content, shared by the new-skill and edit forms. It takes registered
 * props rather than the form, as the two forms are typed by different schemas.
 */
export function SkillFields({
  fields,
  content,
  errors,
  submitHint,
  autoFocus,
}: {
  fields: Record<(typeof SKILL_FIELDS)[number], UseFormRegisterReturn>;
  content: string;
  errors: SkillFieldErrors;
  submitHint: string;
  autoFocus?: boolean;
}) {
  return (
    <div className="flex flex-col gap-4">
      <div className="grid gap-4 md:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <Field
          id="skill-name"
          label="Name"
          hint="Shown in the library and when attaching."
          error={errors.name}
        >
          <Input
            autoComplete="off"
            spellCheck={false}
            autoFocus={autoFocus}
            maxLength={128}
            {...describedBy("skill-name", errors.name)}
            {...fields.name}
          />
        </Field>
        <Field
          id="skill-description"
          label="Description"
          hint="Optional. One line on when an agent should use it."
          error={errors.description}
        >
          <Input
            autoComplete="off"
            maxLength={1024}
            {...describedBy("skill-description", errors.description)}
            {...fields.description}
          />
        </Field>
      </div>
      <SkillEditor
        id="skill-content"
        field={fields.content}
        value={content}
        error={errors.content}
        submitHint={submitHint}
      />
    </div>
  );
}

/** The bar under a skill form: the unplaced server error on the left, the actions on the right. */
export function FormFooter({ message, children }: { message?: ReactNode; children: ReactNode }) {
  return (
    <div className="sticky bottom-0 z-[1] -mx-6 flex min-h-12 items-center justify-between gap-3 border-t border-border bg-bg/95 px-6 py-2 backdrop-blur">
      <div className="min-w-0 text-xs" aria-live="polite">
        {message}
      </div>
      <div className="flex shrink-0 items-center gap-2">{children}</div>
    </div>
  );
}

/** "" in the form means no description; the API stores that as null. */
export function nullableDescription(value: string | null | undefined): string | null {
  return value?.trim() ? value : null;
}
