import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";

import type { AuthSession } from "@/lib/schemas/auth";
import type {
  AcceptInviteInput,
  CreatedInvite,
  CreateInviteInput,
  Invite,
  InvitePreview,
  Member,
} from "@/lib/schemas/member";
import type { WorkspaceRole } from "@/lib/schemas/roles";

import { apiFetch } from "./fetcher";

const MEMBERS = "/api/v1/members";
const INVITES = "/api/v1/invites";

export const memberQueries = {
  all: () => ["members"] as const,
  list: () =>
    queryOptions({
      queryKey: [...memberQueries.all(), "list"],
      queryFn: () => apiFetch<{ data: Member[] }>(MEMBERS),
    }),
  invites: () =>
    queryOptions({
      queryKey: [...memberQueries.all(), "invites"],
      queryFn: () => apiFetch<{ data: Invite[] }>(INVITES),
    }),
  /** The invite page's preview; the token is the credential, no login needed. */
  invitePreview: (token: string) =>
    queryOptions({
      queryKey: ["invite-preview", token],
      queryFn: () => apiFetch<InvitePreview>(`${INVITES}/accept/${encodeURIComponent(token)}`),
      retry: false,
      staleTime: Infinity,
    }),
};

function useInvalidateMembers() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: memberQueries.all() });
}

export function useUpdateMember() {
  const invalidate = useInvalidateMembers();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: WorkspaceRole }) =>
      apiFetch<Member>(`${MEMBERS}/${encodeURIComponent(userId)}`, { method: "PATCH", json: { role } }),
    onSettled: invalidate,
  });
}

export function useRemoveMember() {
  const invalidate = useInvalidateMembers();
  return useMutation({
    mutationFn: (userId: string) =>
      apiFetch<void>(`${MEMBERS}/${encodeURIComponent(userId)}`, { method: "DELETE" }),
    onSuccess: invalidate,
  });
}

export function useCreateInvite() {
  const invalidate = useInvalidateMembers();
  return useMutation({
    mutationFn: (input: CreateInviteInput) =>
      apiFetch<CreatedInvite>(INVITES, { method: "POST", json: input }),
    onSuccess: invalidate,
  });
}

export function useRevokeInvite() {
  const invalidate = useInvalidateMembers();
  return useMutation({
    mutationFn: (inviteId: string) =>
      apiFetch<Invite>(`${INVITES}/${encodeURIComponent(inviteId)}`, { method: "DELETE" }),
    onSuccess: invalidate,
  });
}

/** Accepting sets the login cookie: the caller goes on with a full page load. */
export function acceptInvite(token: string, input: AcceptInviteInput) {
  return apiFetch<AuthSession>(`${INVITES}/accept/${encodeURIComponent(token)}`, {
    method: "POST",
    json: input,
  });
}
