"use client";

import { useQuery } from "@tanstack/react-query";
import { BookOpen, Plus, Search, Upload } from "lucide-react";
import { useEffect, useRef, useState, type RefObject } from "react";

import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { EmptyState, PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { useCaller } from "@/lib/api-client/auth";
import { skillQueries } from "@/lib/api-client/skills";
import type { Skill } from "@/lib/schemas/skill";

import { DeleteSkillDialog } from "./delete-skill-dialog";
import { LinkButton } from "./link-button";
import { SkillDropZone, UploadResults, UploadSkillButton, useSkillUpload } from "./skill-upload-zone";
import { SkillsTable } from "./skills-table";

const PAGE_SIZE = 50;

function useDebounced<T>(value: T, delay: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return debounced;
}

/** "/" jumps to search from anywhere on the page that is not already a text field. */
function useSlashFocuses(box: RefObject<HTMLInputElement | null>) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "/" || event.metaKey || event.ctrlKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, [contenteditable=true], dialog[open]")) return;
      event.preventDefault();
      box.current?.focus();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [box]);
}

export function SkillsLibrary() {
  const [search, setSearch] = useState("");
  const query = useDebounced(search.trim(), 200);
  // The page belongs to the search it was picked for; a new search starts at the first page.
  const [page, setPage] = useState({ query: "", offset: 0 });
  const offset = page.query === query ? page.offset : 0;
  // The list options keep the previous page on screen while the next loads (isPlaceholderData).
  const list = useQuery(skillQueries.list({ search: query || undefined, limit: PAGE_SIZE, offset }));
  const upload = useSkillUpload();
  const [toDelete, setToDelete] = useState<Skill | null>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  // Writing, uploading and deleting skills is for admins; the others read the library.
  const admin = useCaller().can("admin");
  const onFiles = (files: File[]) => {
    if (admin) void upload.upload(files);
  };

  useSlashFocuses(searchBox);

  const data = list.data;
  const skills = data?.data ?? [];
  const total = data?.total ?? 0;
  const goTo = (next: number) => setPage({ query, offset: Math.max(0, next) });
  const libraryEmpty = data !== undefined && total === 0 && !query && !list.isPlaceholderData;

  return (
    <SkillDropZone onFiles={onFiles} className="min-h-full">
      <PageHeader
        title="Skills"
        description="Reusable Markdown instructions that agents get when you attach them."
        actions={
          admin && (
            <>
              <UploadSkillButton onFiles={onFiles} />
              <LinkButton href="/skills/new" variant="primary">
                <Plus size={14} aria-hidden />
                New skill
              </LinkButton>
            </>
          )
        }
      />

      {upload.results.length > 0 && (
        <div className="px-6 pt-4">
          <UploadResults results={upload.results} onClear={upload.clear} />
        </div>
      )}

      {libraryEmpty ? (
        <LibraryEmptyState onFiles={onFiles} admin={admin} />
      ) : (
        <>
          <div className="flex h-12 items-center gap-3 px-6">
            <div className="relative w-full max-w-xs">
              <Search
                size={14}
                aria-hidden
                className="pointer-events-none absolute top-1/2 left-2.5 -translate-y-1/2 text-fg-subtle"
              />
              <Input
                ref={searchBox}
                type="search"
                aria-label="Search skills"
                placeholder="Search by name or id"
                value={search}
                onChange={(e) => setSearch(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === "Escape" && search) {
                    e.preventDefault();
                    setSearch("");
                  }
                }}
                className="pr-8 pl-8"
              />
              <kbd
                aria-hidden
                hidden={search !== ""}
                className="pointer-events-none absolute top-1/2 right-2 -translate-y-1/2 rounded border border-border px-1 font-sans text-[11px] text-fg-subtle"
              >
                /
              </kbd>
            </div>
            {admin && (
              <p className="text-xs text-fg-subtle">Drop SKILL.md files anywhere here to add them.</p>
            )}
          </div>

          {list.error && !data ? (
            <div className="flex items-center gap-3 border-t border-border px-6 py-4 text-xs">
              <span className="text-danger">Could not load skills: {list.error.message}</span>
              <Button size="sm" onClick={() => void list.refetch()}>
                Retry
              </Button>
            </div>
          ) : data && total === 0 && query ? (
            <EmptyState
              icon={<Search size={20} aria-hidden />}
              title={`No skills match “${query}”`}
              body="Search looks at skill names and ids."
              action={
                <Button size="sm" onClick={() => setSearch("")}>
                  Clear search
                </Button>
              }
            />
          ) : (
            <>
              <div className="border-t border-border">
                <SkillsTable
                  skills={skills}
                  loading={!data}
                  stale={list.isPlaceholderData}
                  onDelete={admin ? setToDelete : null}
                />
              </div>
              <Pagination
                className="h-12 px-6"
                offset={data?.offset ?? offset}
                shown={skills.length}
                total={total}
                loading={!data}
                onPrevious={() => goTo(offset - PAGE_SIZE)}
                onNext={() => goTo(offset + PAGE_SIZE)}
              />
            </>
          )}
        </>
      )}

      <DeleteSkillDialog
        skill={toDelete}
        onClose={() => setToDelete(null)}
        onDeleted={() => {
          // Deleting the last row of a later page would leave an empty page: step back one.
          if (skills.length === 1 && offset > 0) goTo(offset - PAGE_SIZE);
        }}
      />
    </SkillDropZone>
  );
}

function LibraryEmptyState({ onFiles, admin }: { onFiles: (files: File[]) => void; admin: boolean }) {
  if (!admin)
    return (
      <EmptyState
        icon={<BookOpen size={22} aria-hidden />}
        title="No skills yet"
        body="An admin of this workspace can add skills: Markdown instructions that agents get."
      />
    );
  return (
    <div className="px-6 py-6">
      <div className="rounded-lg border-2 border-dashed border-border">
        <EmptyState
          icon={<BookOpen size={22} aria-hidden />}
          title="No skills yet"
          body={
            <>
              A skill is a Markdown file of instructions (a SKILL.md) that you attach to agents. Each agent
              keeps its own copy, and every edit here is kept as a version. Write one, or drop SKILL.md files
              onto this page to add them in one go.
            </>
          }
          action={
            <div className="flex flex-wrap justify-center gap-2">
              <LinkButton href="/skills/new" variant="primary">
                <Plus size={14} aria-hidden />
                New skill
              </LinkButton>
              <UploadSkillButton onFiles={onFiles} />
            </div>
          }
        />
        <p className="flex items-center justify-center gap-1.5 pb-8 text-xs text-fg-subtle">
          <Upload size={13} aria-hidden />
          Drop .md files here
        </p>
      </div>
    </div>
  );
}
