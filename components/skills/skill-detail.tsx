"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { BookOpen, Copy, RefreshCw, Trash2 } from "lucide-react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { useWatch } from "react-hook-form";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { RelativeTime } from "@/components/ui/time";
import { useCaller } from "@/lib/api-client/auth";
import { ApiClientError } from "@/lib/api-client/fetcher";
import { skillQueries, useUpdateSkill } from "@/lib/api-client/skills";
import { useUnsavedChangesGuard } from "@/lib/hooks/use-unsaved-changes";
import { applyServerErrors, useZodForm } from "@/lib/hooks/use-zod-form";
import { updateSkillSchema, type Skill, type SkillVersion, type UpdateSkillInput } from "@/lib/schemas/skill";

import { DeleteSkillDialog } from "./delete-skill-dialog";
import { LinkButton } from "./link-button";
import { FormFooter, nullableDescription, SKILL_FIELDS, SkillFields } from "./skill-form";
import { SkillHistory } from "./skill-history";

// expected_version rides along in the form: it is the version these edits started from.
function formValues(skill: Skill) {
  return {
    name: skill.name,
    description: skill.description ?? "",
    content: skill.content,
    expected_version: skill.version,
  };
}

export function SkillDetail({ id }: { id: string }) {
  const skill = useQuery(skillQueries.detail(id));

  // Data first: a failed background refetch (say, right after a delete) must not blank the page.
  if (skill.data) return <SkillEditView skill={skill.data} />;
  if (skill.error) {
    const missing = skill.error instanceof ApiClientError && skill.error.status === 404;
    return (
      <>
        <PageHeader title={missing ? "Skill not found" : "Skill"} />
        <EmptyState
          icon={<BookOpen size={20} aria-hidden />}
          title={missing ? "This skill does not exist" : "Could not load the skill"}
          body={missing ? "It may have been deleted." : skill.error.message}
          action={
            missing ? (
              <LinkButton href="/skills">Back to skills</LinkButton>
            ) : (
              <Button onClick={() => void skill.refetch()}>Retry</Button>
            )
          }
        />
      </>
    );
  }
  return <SkillDetailSkeleton />;
}

function SkillEditView({ skill }: { skill: Skill }) {
  const router = useRouter();
  const client = useQueryClient();
  const update = useUpdateSkill(skill.id);
  const form = useZodForm(updateSkillSchema, { defaultValues: formValues(skill) });
  const content = useWatch({ control: form.control, name: "content" }) ?? "";
  const [failure, setFailure] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [gone, setGone] = useState(false);
  const { errors, isDirty, isSubmitting } = form.formState;
  // Editing and deleting skills is for admins; the others read it (the fields are disabled).
  const admin = useCaller().can("admin");
  useUnsavedChangesGuard(isDirty && !gone);

  // Someone else saved (seen on a refetch): follow along, unless that would throw away edits here.
  useEffect(() => {
    if (!isDirty && skill.version !== form.getValues("expected_version")) form.reset(formValues(skill));
  }, [skill, isDirty, form]);

  const onSubmit = form.handleSubmit(async (values) => {
    // Ctrl/Cmd+Enter submits even while the Save button is disabled.
    if (!form.formState.isDirty) return;
    setFailure(null);
    setNotice(null);
    const dirtyFields = form.formState.dirtyFields;
    const patch: UpdateSkillInput = { expected_version: values.expected_version };
    if (dirtyFields.name) patch.name = values.name;
    if (dirtyFields.description) patch.description = nullableDescription(values.description);
    if (dirtyFields.content) patch.content = values.content;
    try {
      const saved = await update.mutateAsync(patch);
      client.setQueryData(skillQueries.detail(saved.id).queryKey, saved);
      form.reset(formValues(saved));
      setConflict(false);
      setNotice(
        saved.version === values.expected_version ? "No changes to save." : `Saved as v${saved.version}.`,
      );
    } catch (err) {
      if (err instanceof ApiClientError && err.status === 409) setConflict(true);
      else setFailure(applyServerErrors(form, err, SKILL_FIELDS));
    }
  });

  const reload = async () => {
    const fresh = await client.fetchQuery({ ...skillQueries.detail(skill.id), staleTime: 0 });
    await client.invalidateQueries({ queryKey: skillQueries.versions(skill.id).queryKey });
    form.reset(formValues(fresh));
    setConflict(false);
    setNotice(`Reloaded v${fresh.version}.`);
  };

  const restore = (version: SkillVersion) => {
    form.setValue("content", version.content, { shouldDirty: true, shouldValidate: true });
    setNotice(`v${version.version}'s content is in the editor. Save to keep it.`);
  };

  const message = conflict ? (
    <ConflictMessage onReload={reload} content={content} />
  ) : failure ? (
    <span className="text-danger">{failure}</span>
  ) : notice ? (
    <span className="text-fg-muted">{notice}</span>
  ) : isDirty ? (
    <span className="text-fg-muted">Unsaved changes</span>
  ) : null;

  return (
    <>
      <SkillHeader skill={skill} onDelete={admin ? () => setDeleting(true) : null} />
      <div className="grid gap-x-8 gap-y-6 px-6 pt-5 xl:grid-cols-[minmax(0,1fr)_380px]">
        <form
          onSubmit={onSubmit}
          noValidate
          className="flex min-w-0 flex-col gap-4"
          aria-label={admin ? "Edit skill" : "Skill"}
        >
          <fieldset disabled={!admin} className="contents">
            <SkillFields
              submitHint="save"
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
          </fieldset>
          {admin ? (
            <FormFooter message={message}>
              <Button
                onClick={() => {
                  form.reset();
                  setNotice(null);
                  setFailure(null);
                }}
                disabled={!isDirty || isSubmitting}
                variant="ghost"
              >
                Discard
              </Button>
              <Button type="submit" variant="primary" disabled={!isDirty || isSubmitting}>
                {isSubmitting ? "Saving…" : "Save"}
              </Button>
            </FormFooter>
          ) : (
            <p className="pb-6 text-xs text-fg-muted">Only admins edit skills; this is a read-only view.</p>
          )}
        </form>
        <aside className="min-w-0 pb-6">
          <SkillHistory skillId={skill.id} onRestore={admin ? restore : null} />
        </aside>
      </div>
      <DeleteSkillDialog
        skill={deleting ? skill : null}
        onClose={() => setDeleting(false)}
        onDeleted={() => {
          setGone(true);
          router.push("/skills");
        }}
      />
    </>
  );
}

function SkillHeader({ skill, onDelete }: { skill: Skill; onDelete: (() => void) | null }) {
  return (
    <PageHeader
      title={
        <>
          {skill.name}{" "}
          <Badge className="ml-1 align-[2px]" tone="neutral">
            v{skill.version}
          </Badge>
        </>
      }
      description={
        <>
          <Link href="/skills" className="hover:text-fg hover:underline">
            Skills
          </Link>
          {" · "}
          <span className="font-mono">{skill.id}</span>
          {" · updated "}
          <RelativeTime iso={skill.updated_at} />
        </>
      }
      actions={
        onDelete && (
          <Button onClick={onDelete}>
            <Trash2 size={14} aria-hidden className="text-danger" />
            Delete
          </Button>
        )
      }
    />
  );
}

function ConflictMessage({ onReload, content }: { onReload: () => Promise<void>; content: string }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const [reloading, setReloading] = useState(false);
  return (
    <span role="alert" className="flex flex-wrap items-center gap-x-3 gap-y-1">
      <span className="text-danger">
        Someone saved this skill after you opened it. Reload to get their version; your edits here will be
        replaced.
      </span>
      <span className="flex gap-1">
        <Button
          size="sm"
          variant="ghost"
          onClick={async () => {
            try {
              // Absent outside secure contexts (plain http on a LAN address): the throw lands below.
              await navigator.clipboard.writeText(content);
              setCopied("yes");
            } catch {
              setCopied("failed");
            }
          }}
        >
          <Copy size={13} aria-hidden />
          {copied === "yes" ? "Copied" : copied === "failed" ? "Copy failed" : "Copy my content"}
        </Button>
        <Button
          size="sm"
          disabled={reloading}
          onClick={async () => {
            setReloading(true);
            await onReload().finally(() => setReloading(false));
          }}
        >
          <RefreshCw size={13} aria-hidden />
          Reload
        </Button>
      </span>
    </span>
  );
}

function SkillDetailSkeleton() {
  return (
    <div aria-busy aria-label="Loading skill">
      <div className="flex min-h-14 flex-col justify-center gap-1.5 border-b border-border px-6 py-3">
        <span className="h-4 w-48 animate-pulse rounded bg-bg-muted" />
        <span className="h-3 w-72 animate-pulse rounded bg-bg-muted" />
      </div>
      <div className="grid gap-x-8 gap-y-6 px-6 pt-5 xl:grid-cols-[minmax(0,1fr)_380px]">
        <div className="flex flex-col gap-4">
          <div className="grid gap-4 md:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
            <span className="h-[52px] animate-pulse rounded bg-bg-muted" />
            <span className="h-[52px] animate-pulse rounded bg-bg-muted" />
          </div>
          <span className="h-[450px] animate-pulse rounded bg-bg-muted" />
        </div>
        <span className="h-40 animate-pulse rounded bg-bg-muted" />
      </div>
    </div>
  );
}
