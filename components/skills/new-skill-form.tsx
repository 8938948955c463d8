"use client";

import { useQueryClient } from "@tanstack/react-query";
import { FileUp } from "lucide-react";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { useWatch } from "react-hook-form";

import { Button } from "@/components/ui/button";
import { PageHeader } from "@/components/ui/page-header";
import { skillQueries, useCreateSkill } from "@/lib/api-client/skills";
import { useUnsavedChangesGuard } from "@/lib/hooks/use-unsaved-changes";
import { applyServerErrors, useZodForm } from "@/lib/hooks/use-zod-form";
import { createSkillSchema } from "@/lib/schemas/skill";
import { parseSkillFile } from "@/lib/skill-file";

import { LinkButton } from "./link-button";
import { FormFooter, nullableDescription, SKILL_FIELDS, SkillFields } from "./skill-form";
import { MARKDOWN_ACCEPT } from "./skill-upload-zone";

export function NewSkillForm() {
  const router = useRouter();
  const client = useQueryClient();
  const create = useCreateSkill();
  const form = useZodForm(createSkillSchema, { defaultValues: { name: "", description: "", content: "" } });
  const content = useWatch({ control: form.control, name: "content" }) ?? "";
  const [failure, setFailure] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const { errors, isDirty, isSubmitting } = form.formState;
  useUnsavedChangesGuard(isDirty && !leaving);

  const onSubmit = form.handleSubmit(async (values) => {
    setFailure(null);
    try {
      const skill = await create.mutateAsync({
        ...values,
        description: nullableDescription(values.description),
      });
      // The skill page then opens with no loading flash.
      client.setQueryData(skillQueries.detail(skill.id).queryKey, skill);
      setLeaving(true);
      router.push(`/skills/${skill.id}`);
    } catch (err) {
      setFailure(applyServerErrors(form, err, SKILL_FIELDS));
    }
  });

  const fillFromFile = async (file: File | undefined) => {
    if (!file) return;
    const parsed = parseSkillFile(await file.text(), file.name);
    const opts = { shouldDirty: true, shouldValidate: true } as const;
    if (parsed.name) form.setValue("name", parsed.name, opts);
    form.setValue("description", parsed.description ?? "", opts);
    form.setValue("content", parsed.content, opts);
  };

  return (
    <>
      <PageHeader
        title="New skill"
        description="Markdown instructions that agents get when the skill is attached."
        actions={
          <>
            <Button variant="ghost" onClick={() => fileInput.current?.click()}>
              <FileUp size={14} aria-hidden />
              Fill from SKILL.md
            </Button>
            <input
              ref={fileInput}
              type="file"
              accept={MARKDOWN_ACCEPT}
              hidden
              onChange={(e) => {
                void fillFromFile(e.currentTarget.files?.[0]);
                e.currentTarget.value = "";
              }}
            />
          </>
        }
      />
      <form onSubmit={onSubmit} noValidate className="mx-auto flex max-w-4xl flex-col gap-4 px-6 pt-5">
        <SkillFields
          autoFocus
          submitHint="create"
          content={content}
          errors={{
            name: errors.name?.message,
            description: errors.description?.message,
            content: errors.content?.message,
          }}
          fields={{
            name: form.register("name"),
            description: form.register("description"),
            content: form.register("content"),
          }}
        />
        <FormFooter message={failure && <span className="text-danger">{failure}</span>}>
          <LinkButton href="/skills">Cancel</LinkButton>
          <Button type="submit" variant="primary" disabled={isSubmitting || leaving}>
            {isSubmitting || leaving ? "Creating…" : "Create skill"}
          </Button>
        </FormFooter>
      </form>
    </>
  );
}
