import type { CanUseTool, PermissionUpdate } from "@anthropic-ai/claude-agent-sdk";

import type { PermissionReply } from "../turn";
import type { EventMapper, EventQueue } from "./events";

/** "Always" keeps for the session only: never a settings file in the person's workspace. */
function inSession(update: PermissionUpdate): PermissionUpdate {
  return "destination" in update ? { ...update, destination: "session" } : update;
}

/** The rules an answer grants: the allow rules Claude Code suggested, or else the whole tool. */
function rulesOf(tool: string, suggestions: PermissionUpdate[] | undefined): string[] {
  const rules = (suggestions ?? []).flatMap((update) =>
    update.type === "addRules" && update.behavior === "allow"
      ? update.rules.map((rule) =>
          rule.ruleContent ? `${rule.toolName}(${rule.ruleContent})` : rule.toolName,
        )
      : [],
  );
  return rules.length > 0 ? rules : [tool];
}

type Pending = { resolve: (reply: PermissionReply | null) => void };

/** A session's permission state, which outlives each turn's CLI process. */
export type Permits = {
  /** Permission requests waiting for answerPermission, by id. */
  pending: Map<string, Pending>;
  /**
   * Rules answered "always". Each turn runs a new CLI, which forgets session rules, so the adapter
   * answers for them itself.
   */
  granted: Set<string>;
};

/** Whether a tool name matches one of `rules` (exact, or a `prefix*` wildcard). */
export function matchesToolRule(tool: string, rules: readonly string[]): boolean {
  return rules.some((rule) => (rule.endsWith("*") ? tool.startsWith(rule.slice(0, -1)) : tool === rule));
}

/**
 * The SDK's canUseTool for one turn: each tool call it would ask about waits for an answer. With
 * `askTools`, only the tools it names ask; the others are allowed.
 */
export function permissionAsker(
  permits: Permits,
  events: EventQueue,
  mapper: EventMapper,
  askTools?: readonly string[],
): CanUseTool {
  const { pending, granted } = permits;
  return async (tool, input, { signal, toolUseID, title, suggestions }) => {
    if (askTools && !matchesToolRule(tool, askTools)) return { behavior: "allow", updatedInput: input };
    const rules = rulesOf(tool, suggestions);
    if (rules.every((rule) => granted.has(rule))) return { behavior: "allow", updatedInput: input };
    await mapper.announceCall(toolUseID, tool, input);
    const permissionId = toolUseID;
    // Waiting starts before the request is out, so an answer given during emit is not lost.
    const answer = new Promise<PermissionReply | null>((resolve) => {
      if (signal.aborted) return resolve(null);
      pending.set(permissionId, { resolve });
      signal.addEventListener("abort", () => resolve(null), { once: true });
    }).finally(() => pending.delete(permissionId));
    await events.push({
      type: "permission_request",
      permission_id: permissionId,
      tool,
      input,
      ...(title ? { title } : {}),
    });
    const reply = await answer;
    if (reply === null) return { behavior: "deny", message: "The turn was stopped.", interrupt: true };
    await events.push({ type: "permission_reply", permission_id: permissionId, reply });
    if (reply === "reject") return { behavior: "deny", message: "The user rejected this tool call." };
    if (reply === "once") return { behavior: "allow", updatedInput: input };
    for (const rule of rules) granted.add(rule);
    return {
      behavior: "allow",
      updatedInput: input,
      updatedPermissions: (suggestions ?? []).map(inSession),
    };
  };
}
