import type { Browser, Page } from "@playwright/test";

import {
  AGENTS,
  apiCall,
  createAgent,
  expect,
  inviteByApi,
  screenshotBothThemes,
  SESSIONS,
  stopQuietly,
  test,
  unique,
  waitForSession,
} from "./fixtures";

/*
 * Teams in the browser: an invite taken from the Members page to a signed-in account, a viewer's
 * terminal, and an API key created, used and revoked from its page. The project's saved login is the
 * master key's (an admin of the default workspace).
 */

const PASSWORD = "correct horse battery staple";

/** A browser with no login, as a stranger opening a link would have. */
async function freshPage(browser: Browser, baseURL: string) {
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  return { context, page: await context.newPage() };
}

function signedIn(page: Page) {
  return page.getByRole("navigation", { name: "Main" }).getByRole("region", { name: "Signed in" });
}

test("[TEAMS] an admin invites from the Members page; the invitee sets a password, is signed in with the role, and logs in again", async ({
  page,
  browser,
  baseURL,
}) => {
  const email = `${unique("invitee")}@example.com`;
  await page.goto("/members");
  await expect(page.getByRole("heading", { level: 1, name: "Members" })).toBeVisible();
  await expect(signedIn(page)).toContainText("Master key");
  await expect(signedIn(page)).toContainText("admin");
  await screenshotBothThemes(page, "members");

  await page.getByRole("button", { name: "Invite member" }).click();
  const dialog = page.getByRole("dialog", { name: "Invite a member" });
  await dialog.getByLabel("Email", { exact: true }).fill(email);
  await dialog.getByLabel("Role").selectOption("operator");
  await dialog.getByLabel("Link expires after").selectOption({ label: "7 days" });
  await dialog.getByRole("button", { name: "Create invite link" }).click();
  const shown = page.getByRole("dialog", { name: `Invite link for ${email}` });
  await expect(shown).toContainText("you will not see this link again");
  const url = (await shown.getByLabel("Invite link", { exact: true }).textContent())!;
  expect(url).toMatch(new RegExp(`^${baseURL}/invite/[A-Za-z0-9_-]+$`));
  await expect(shown.getByRole("button", { name: "Copy the invite link" })).toBeVisible();
  await screenshotBothThemes(page, "members-invite-link");
  await shown.getByRole("button", { name: "Done" }).click();
  // Shown once: the link is gone from the page; the invite is listed as open.
  await expect(page.getByText(url)).toHaveCount(0);
  const invites = page.getByRole("table", { name: "Open invites" });
  await expect(invites.getByRole("row", { name: new RegExp(email) })).toContainText("operator");

  // The invitee, in a browser of their own.
  const invitee = await freshPage(browser, baseURL!);
  try {
    const them = invitee.page;
    await them.goto(url);
    await expect(them.getByRole("heading", { level: 1, name: "Join Default" })).toBeVisible();
    await expect(them.getByText(email)).toBeVisible();
    await expect(them.getByText("operator", { exact: true })).toBeVisible();
    await expect(them.getByLabel("Your name")).toBeFocused();
    await screenshotBothThemes(them, "invite");
    await them.getByLabel("Your name").fill("Ada Invitee");
    await them.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await them.getByLabel("Confirm password").fill(`${PASSWORD}!`);
    await them.getByRole("button", { name: "Create account and join" }).click();
    await expect(them.locator("#confirm-error")).toHaveText("the passwords differ");
    await them.getByLabel("Confirm password").fill(PASSWORD);
    await them.getByRole("button", { name: "Create account and join" }).click();
    await expect(them).toHaveURL(/\/agents$/);
    await expect(them.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();
    await expect(signedIn(them)).toContainText(email);
    await expect(signedIn(them)).toContainText("operator");
    // An operator sees Members but not the admin pages, and cannot create agents.
    const nav = them.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "Members" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "API keys" })).toHaveCount(0);
    await expect(nav.getByRole("link", { name: "Audit" })).toHaveCount(0);
    await expect(them.getByRole("button", { name: "New agent" })).toHaveCount(0);
    await screenshotBothThemes(them, "sidebar-operator");

    // Used once: the same link now says so.
    await them.goto(url);
    await expect(
      them.getByRole("heading", { level: 1, name: "This invite link does not work" }),
    ).toBeVisible();
    await screenshotBothThemes(them, "invite-dead");

    // Out, and back in with email and password (the login page's default).
    await them.goto("/agents");
    await them.getByRole("button", { name: "Log out" }).click();
    await expect(them).toHaveURL(/\/login/);
    await them.getByLabel("Email", { exact: true }).fill(email);
    await them.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await them.getByRole("button", { name: "Log in" }).click();
    await expect(them.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();
    await expect(signedIn(them)).toContainText(email);
  } finally {
    await invitee.context.close();
  }

  // The admin's Members page lists them, with a role select.
  await page.reload();
  await expect(page.getByLabel(`Role of ${email}`)).toHaveValue("operator");
  await screenshotBothThemes(page, "members-with-member");
});

/** The saved login is shared by the other tests: moves it back to the default workspace. */
async function backToDefault(page: Page) {
  await page.goto("/agents");
  await page.evaluate(() =>
    fetch("/api/v1/auth/workspace", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ workspace_id: "ws_default" }),
    }),
  );
  await page.reload();
  await expect(signedIn(page)).toContainText("in Default");
}

test("[TEAMS] a new workspace from the sidebar: named, created, and the login moves into it", async ({
  page,
}) => {
  const name = unique("Made in the UI");
  const nav = page.getByRole("navigation", { name: "Main" });
  try {
    await page.goto("/agents");
    await nav.getByRole("button", { name: "New workspace" }).click();
    const dialog = page.getByRole("dialog", { name: "New workspace" });
    await dialog.getByRole("button", { name: "Create and switch" }).click();
    await expect(dialog.getByText("name is required")).toBeVisible();
    await dialog.getByLabel("Name").fill(name);
    await screenshotBothThemes(page, "new-workspace");
    await Promise.all([
      page.waitForEvent("load"),
      dialog.getByRole("button", { name: "Create and switch" }).click(),
    ]);
    await expect(signedIn(page)).toContainText(`in ${name}`);
    await expect(page.getByRole("heading", { name: "No agents yet" })).toBeVisible();
  } finally {
    await backToDefault(page);
  }
});

test("[TEAMS] the sidebar's workspace switcher moves the login to another workspace and reloads", async ({
  page,
  request,
}) => {
  const name = unique("Second workspace");
  const created = await apiCall(request, "POST", "/api/v1/workspaces", { name });
  expect(created.status).toBe(201);
  const switcher = page.getByRole("navigation", { name: "Main" }).getByLabel("Workspace");
  try {
    await page.goto("/agents");
    await expect(switcher).toBeEnabled();
    await expect(switcher.locator("option", { hasText: name })).toHaveCount(1);
    await Promise.all([page.waitForEvent("load"), switcher.selectOption({ label: name })]);
    await expect(signedIn(page)).toContainText(`in ${name}`);
    await expect(switcher).toHaveValue(created.body.id);
    // Every query read the new workspace: it has no agents, and its audit log starts with itself.
    await expect(page.getByRole("heading", { name: "No agents yet" })).toBeVisible();
    await screenshotBothThemes(page, "sidebar-switched-workspace");
  } finally {
    await backToDefault(page);
  }
});

test("[TEAMS] a viewer watches a TUI terminal: keystrokes and takeover never reach the PTY", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  test.setTimeout(150_000);
  const title = unique("viewer-tui");
  const agent = await createAgent(request, {
    name: `${title}-agent`,
    harness_id: "claude-code",
    model: "hangar-test-model",
  });
  const created = await apiCall(request, "POST", `${AGENTS}/${agent.id}/session`, { title });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  const email = `${unique("viewer")}@example.com`;
  const { token } = await inviteByApi(request, email, "viewer");
  const viewer = await freshPage(browser, baseURL!);
  try {
    const accepted = await viewer.context.request.post(`/api/v1/invites/accept/${token}`, {
      data: { password: PASSWORD },
    });
    expect(accepted.status()).toBe(200);
    await waitForSession(request, id, ["ready"], 90_000);

    // The admin (master key) has the keyboard.
    await page.goto(`/sessions/${id}`);
    const writer = page.getByRole("region", { name: `Terminal for ${title}` });
    await expect(writer.locator(".xterm-rows")).toContainText("Claude Code", { timeout: 30_000 });
    await expect(writer.getByRole("status", { name: "Terminal connection" })).toHaveText("Live");

    const them = viewer.page;
    await them.goto(`/sessions/${id}`);
    const pane = them.getByRole("region", { name: `Terminal for ${title}` });
    const screen = pane.locator(".xterm-rows");
    await expect(screen).toContainText("Claude Code", { timeout: 30_000 });
    await expect(pane.getByRole("status", { name: "Terminal connection" })).toHaveText("Live");
    await expect(pane.getByText("Read-only", { exact: true })).toBeVisible();
    await expect(pane.getByRole("note")).toContainText("viewer role");
    await expect(pane.getByRole("button", { name: "Take over" })).toHaveCount(0);
    await expect(pane.getByRole("tab", { name: "Shell" })).toHaveCount(0);
    await expect(them.getByRole("button", { name: "Stop" })).toHaveCount(0);
    await expect(them.getByRole("button", { name: "Restart" })).toHaveCount(0);
    await screenshotBothThemes(them, "terminal-viewer-role");

    await pane.locator(".xterm-screen").click();
    await them.keyboard.type("typed-by-the-viewer");
    // The page's own controls aside, a socket of the viewer's own asks to take over and types.
    const frames = await them.evaluate(async (sessionId) => {
      const url = `ws://${location.host}/api/v1/managed_agents/sessions/${sessionId}/tty?meta=1`;
      const ws = new WebSocket(url);
      const roles: string[] = [];
      ws.onmessage = (e) => {
        if (typeof e.data === "string" && e.data.startsWith("{")) roles.push(JSON.parse(e.data).role);
      };
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      ws.send(JSON.stringify({ type: "takeover" }));
      ws.send("typed-through-a-socket");
      await new Promise((r) => setTimeout(r, 1500));
      ws.close();
      return roles;
    }, id);
    expect(frames.length).toBeGreaterThan(0);
    expect(new Set(frames)).toEqual(new Set(["viewer"]));

    // The writer's keystrokes do arrive (the viewer's screen is live), the viewer's never did.
    await writer.locator(".xterm-screen").click();
    await page.keyboard.type("typed-by-the-admin");
    await expect(screen).toContainText("typed-by-the-admin");
    for (const shown of [screen, writer.locator(".xterm-rows")]) {
      await expect(shown).not.toContainText("typed-by-the-viewer");
      await expect(shown).not.toContainText("typed-through-a-socket");
    }
    await expect(writer.getByRole("button", { name: "Take over" })).toHaveCount(0);
  } finally {
    await viewer.context.close();
    await stopQuietly(request, id);
  }
});

test("[TEAMS] an API key from its page: shown once, works with Bearer, revoked in the UI it gets 401 and its open stream ends", async ({
  page,
  request,
  baseURL,
}) => {
  test.setTimeout(120_000);
  const name = unique("ci-key");
  await page.goto("/api-keys");
  await expect(page.getByRole("heading", { level: 1, name: "API keys" })).toBeVisible();
  await page.getByRole("button", { name: "New API key" }).click();
  const dialog = page.getByRole("dialog", { name: "New API key" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByLabel("Role").selectOption("operator");
  await dialog.getByLabel("Expires after (days) (optional)").fill("30");
  await screenshotBothThemes(page, "api-keys-create");
  await dialog.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByRole("dialog", { name: `API key ${name}` });
  await expect(shown).toContainText("you will not see it again");
  const key = (await shown.getByLabel("API key", { exact: true }).textContent())!;
  expect(key).toMatch(/^hgr_/);
  await screenshotBothThemes(page, "api-keys-created");
  await shown.getByRole("button", { name: "Done" }).click();
  await expect(page.getByText(key)).toHaveCount(0);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText(`hgr_…${key.slice(-4)}`);
  await expect(row).toContainText("All agents");

  const listAgents = () =>
    fetch(`${baseURL}${AGENTS}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
  expect(await listAgents()).toBe(200);

  // A stream opened with the key, before it is revoked.
  const agent = await createAgent(request, {
    name: `${name}-agent`,
    harness_id: "claude-code",
    model: "hangar-test-model",
  });
  const created = await apiCall(request, "POST", `${AGENTS}/${agent.id}/session`, {});
  const sessionId = created.body.id as string;
  try {
    const stream = await fetch(`${baseURL}${SESSIONS}/${sessionId}/stream?follow=1`, {
      headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" },
    });
    expect(stream.status).toBe(200);
    let endedAt: number | null = null;
    const reading = (async () => {
      const reader = stream.body!.getReader();
      while (!(await reader.read().catch(() => ({ done: true }))).done) {
        /* the events themselves do not matter here */
      }
      endedAt = Date.now();
    })();
    await page.waitForTimeout(500);
    expect(endedAt).toBeNull();

    await page.reload();
    await screenshotBothThemes(page, "api-keys");
    await page.getByRole("button", { name: `Revoke ${name}` }).click();
    const confirm = page.getByRole("dialog", { name: "Revoke API key?" });
    await expect(confirm).toContainText(name);
    const answered = page.waitForResponse(
      (r) => r.request().method() === "DELETE" && r.url().includes("/api_keys/"),
    );
    await confirm.getByRole("button", { name: "Revoke key" }).click();
    const response = await answered;
    const revokedAt = Date.now();
    expect(response.status()).toBe(200);
    await reading;
    test.info().annotations.push({
      type: "stream ended after revoke (ms)",
      description: String(endedAt! - revokedAt),
    });
    expect(endedAt! - revokedAt).toBeLessThan(1000);
    await expect(row).toContainText("Revoked");
    await expect(page.getByRole("button", { name: `Revoke ${name}` })).toHaveCount(0);
    expect(await listAgents()).toBe(401);
  } finally {
    await stopQuietly(request, sessionId);
  }
});

test("[TEAMS] the audit log: filters, Load more by cursor, and the JSON lines export of the same filters", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const tag = unique("audit");
  // More entries than one page holds (100), all of one action.
  for (let i = 0; i < 101; i++) await inviteByApi(request, `${tag}-${i}@example.com`, "viewer");
  await page.goto("/audit");
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  const table = page.getByRole("table", { name: "Audit log entries, oldest first" });
  await expect(table.getByRole("row").nth(1)).toBeVisible();

  const filters = page.getByRole("search", { name: "Filter the audit log" });
  await filters.getByLabel("Action").fill("invite.create");
  await filters.getByLabel("From").fill("2000-01-01T00:00");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByText("100 entries shown, oldest first")).toBeVisible();
  await expect(table.getByRole("row", { name: new RegExp(`${tag}-100@example.com`) })).toHaveCount(0);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(table.getByRole("row", { name: new RegExp(`${tag}-100@example.com`) })).toContainText(
    "invite.create",
  );
  await expect(table.getByRole("row", { name: new RegExp(`${tag}-100@example.com`) })).toContainText(
    "role: viewer",
  );

  const exportLink = page.getByRole("link", { name: "Export JSON lines" });
  const href = (await exportLink.getAttribute("href"))!;
  expect(href).toContain("action=invite.create");
  expect(href).toContain("since=");
  const res = await page.request.get(href);
  expect(res.status()).toBe(200);
  const lines = (await res.text())
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines.length).toBeGreaterThanOrEqual(101);
  expect(new Set(lines.map((l) => l.action))).toEqual(new Set(["invite.create"]));

  // A role change reads as from → to.
  const member = await inviteByApi(request, `${tag}-member@example.com`, "viewer");
  const joined = await request.post(`/api/v1/invites/accept/${member.token}`, {
    data: { password: PASSWORD },
  });
  const userId = (await joined.json()).user.id as string;
  const changed = await apiCall(request, "PATCH", `/api/v1/members/${userId}`, { role: "operator" });
  expect(changed.status).toBe(200);
  await filters.getByRole("button", { name: "Clear" }).click();
  await filters.getByLabel("Resource").fill(userId);
  await filters.getByRole("button", { name: "Apply filters" }).click();
  const change = table.getByRole("row", { name: /member\.role_change/ });
  await expect(change).toContainText("role: viewer → operator");
  await expect(change).toContainText(`email: ${tag}-member@example.com`);
  await filters.getByLabel("Resource").fill("");
  await filters.getByLabel("Action").fill("member.");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(table.getByRole("row", { name: /member\.join/ }).first()).toBeVisible();
  await screenshotBothThemes(page, "audit");
});
