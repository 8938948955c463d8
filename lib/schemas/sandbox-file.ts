import { z } from "zod";

export const SANDBOX_FILES_MAX = 20;
/** Total base64 characters across an agent's files. */
export const SANDBOX_FILES_MAX_BASE64 = 10 * 1024 * 1024;
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** Problems with a sandbox path, or null. Paths are absolute or home-relative, never climbing. */
export function sandboxPathProblem(path: string): string | null {
  if (!(path.startsWith("/") || path.startsWith("~/"))) return "must start with / or ~/";
  if (path.endsWith("/")) return "must name a file, not a folder";
  if (/[\u0000-\u001f\u007f]/.test(path)) return "must not contain control characters";
  const segments = path.split("/").slice(1);
  if (segments.some((s) => s === "..")) return "must not contain .. segments";
  if (segments.some((s) => s === "." || s === "")) return "must not contain empty or . segments";
  return null;
}

/** Length of the bytes a base64 string decodes to, or null when it is not strict base64. */
export function decodedBase64Length(value: string): number | null {
  if (value.length % 4 !== 0) return null;
  let padding = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const isAlphabet =
      (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (isAlphabet) {
      if (padding > 0) return null;
    } else if (c === 61 && i >= value.length - 2) {
      padding++;
    } else {
      return null;
    }
  }
  return (value.length / 4) * 3 - padding;
}

const fileMetaFields = {
  name: z.string().trim().min(1).max(255),
  sandbox_path: z
    .string()
    .max(1024)
    .superRefine((path, ctx) => {
      const problem = sandboxPathProblem(path);
      if (problem) ctx.addIssue({ code: "custom", message: `sandbox_path ${problem}` });
    }),
  content_type: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+(?:\s*;.*)?$/, "must be a MIME type such as text/plain")
    .max(255)
    .default(DEFAULT_CONTENT_TYPE),
  size: z.number().int().min(0),
};

/** A file as sent on create: its bytes travel base64-encoded in `content`. */
export const sandboxFileInputSchema = z.object({ ...fileMetaFields, content: z.string() });

/** On update a file may instead keep the bytes an agent already stores, named by their sha256. */
export const sandboxFileKeepSchema = z.object({
  ...fileMetaFields,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be the sha256 of a file this agent already has"),
});

/** File metadata as the API returns it: never the content (download it by index). */
export const sandboxFileSchema = z.object({
  index: z.number().int(),
  name: z.string(),
  sandbox_path: z.string(),
  content_type: z.string(),
  size: z.number().int(),
  sha256: z.string(),
});

type FileLike = { sandbox_path: string; size: number; content?: string };

function checkFiles(files: FileLike[], ctx: z.RefinementCtx) {
  let base64Total = 0;
  const seen = new Map<string, number>();
  files.forEach((file, i) => {
    if (file.content !== undefined) {
      base64Total += file.content.length;
      const decoded = decodedBase64Length(file.content);
      if (decoded === null) {
        ctx.addIssue({ code: "custom", path: [i, "content"], message: "content must be valid base64" });
      } else if (decoded !== file.size) {
        ctx.addIssue({
          code: "custom",
          path: [i, "size"],
          message: `size is ${file.size} but content decodes to ${decoded} bytes`,
        });
      }
    }
    const first = seen.get(file.sandbox_path);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [i, "sandbox_path"],
        message: `${file.sandbox_path} is also the path of file ${first}`,
      });
    } else {
      seen.set(file.sandbox_path, i);
    }
  });
  if (base64Total > SANDBOX_FILES_MAX_BASE64) {
    ctx.addIssue({
      code: "custom",
      message: `files take ${base64Total} base64 characters; the limit is ${SANDBOX_FILES_MAX_BASE64} (10 MB)`,
    });
  }
}

export const sandboxFilesInputSchema = z
  .array(sandboxFileInputSchema)
  .max(SANDBOX_FILES_MAX, `at most ${SANDBOX_FILES_MAX} files`)
  .superRefine(checkFiles);

export const sandboxFilesUpdateSchema = z
  .array(z.union([sandboxFileInputSchema, sandboxFileKeepSchema]))
  .max(SANDBOX_FILES_MAX, `at most ${SANDBOX_FILES_MAX} files`)
  .superRefine(checkFiles);

export type SandboxFileInput = z.infer<typeof sandboxFileInputSchema>;
export type SandboxFileKeep = z.infer<typeof sandboxFileKeepSchema>;
export type SandboxFile = z.infer<typeof sandboxFileSchema>;
