import { Badge } from "@/components/ui/badge";
import type { WorkspaceRole } from "@/lib/schemas/roles";

/** What each role may do, in the words the role pickers and the invite page use. */
export const ROLE_HINTS: Record<WorkspaceRole, string> = {
  viewer: "reads agents, sessions and terminals",
  operator: "also starts and stops sessions, chats and types in terminals",
  admin: "also changes agents, skills, members and API keys",
};

/** "A viewer reads …", "An operator also …": the hint as a sentence about one holder of the role. */
export function roleSentence(role: WorkspaceRole, noun = ""): string {
  const article = role === "viewer" ? "A" : "An";
  return `${article} ${role}${noun ? ` ${noun}` : ""} ${ROLE_HINTS[role]}.`;
}

const TONES = { viewer: "neutral", operator: "accent", admin: "warning" } as const;

export function RoleBadge({ role }: { role: WorkspaceRole }) {
  return (
    <Badge tone={TONES[role]} className="capitalize">
      {role}
    </Badge>
  );
}
