import type { Page } from "@playwright/test";

import {
  AGENTS,
  apiCall,
  createAgent,
  expect,
  screenshotBothThemes,
  SESSIONS,
  stopQuietly,
  test,
  unique,
  waitForSession,
} from "./fixtures";

const NO_ISOLATION =
  "This session runs without isolation (process driver): the agent can read and change this machine.";

const step = (page: Page, phase: string) =>
  page.locator(`[aria-label="Boot progress"] li[data-phase="${phase}"]`);

test("[SESSIONS] start a session from the agent page, watch it boot, find it in the list, stop it", async ({
  page,
  request,
}) => {
  const tag = unique("sess");
  const canary = `canary-${tag}`;
  const agent = await createAgent(request, { name: `${tag}-agent`, harness_id: "codex" });
  let sessionId: string | undefined;
  try {
    await page.goto(`/agents/${agent.id}`);
    const panel = page.getByRole("region", { name: "Sessions" });
    await expect(panel).toContainText("No sessions yet");

    // The dialog: a title, a first prompt and a per-session secret.
    await page.getByRole("button", { name: "New session" }).click();
    const dialog = page.getByRole("dialog", { name: `New session of ${tag}-agent` });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Title")).toBeFocused();
    await dialog.getByLabel("Title").fill(`${tag} boot`);
    await dialog.getByLabel(/Initial prompt/).fill("List the files.");
    await dialog.getByRole("button", { name: "Add variable" }).click();
    await dialog.getByLabel("Name of variable 1").fill("SESSION_SECRET");
    await dialog.getByRole("textbox", { name: "Value of SESSION_SECRET" }).fill(canary);
    // Reserved for an agent, GIT_TOKEN is allowed per session (the session schema says so).
    await expect(dialog).toContainText("GIT_TOKEN is used to clone the agent's repository");
    await dialog.getByRole("button", { name: "Add variable" }).click();
    await dialog.getByLabel("Name of variable 2").fill("GIT_TOKEN");
    await dialog.getByRole("textbox", { name: "Value of GIT_TOKEN" }).fill(`${canary}-git`);
    await dialog.getByRole("button", { name: "Add variable" }).click();
    await dialog.getByLabel("Name of variable 3").fill("PORT");
    await expect(dialog.getByRole("alert")).toHaveText(["PORT is reserved: Hangar sets it in every sandbox"]);
    await dialog.getByRole("button", { name: "Remove PORT" }).click();
    await expect(dialog.getByRole("alert")).toHaveCount(0);

    // A dialog opened from this one has its own name, and closing it leaves this one open.
    await dialog.getByRole("button", { name: "Paste .env" }).click();
    const paste = page.getByRole("dialog", { name: "Paste .env" });
    await expect(paste).toBeVisible();
    await paste.getByRole("button", { name: "Cancel" }).click();
    await expect(paste).toBeHidden();
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Name of variable 2")).toHaveValue("GIT_TOKEN");
    await screenshotBothThemes(page, "session-new-dialog");
    await dialog.getByRole("button", { name: "Start session" }).click();

    await expect(page).toHaveURL(/\/sessions\/sess_[0-9a-z]+$/);
    sessionId = page.url().split("/").pop() as string;
    await expect(page.getByRole("heading", { level: 1 })).toContainText(`${tag} boot`);
    await expect(page.getByRole("link", { name: `${tag}-agent` })).toBeVisible();

    // Boot to Ready: every phase is shown, the ones that ran with their milliseconds.
    await expect(
      page
        .getByRole("region", { name: `Terminal for ${tag} boot` })
        .getByRole("status", { name: "Terminal connection" }),
    ).toHaveText("Live", { timeout: 15_000 });
    const progress = page.getByRole("list", { name: "Boot progress" });
    for (const label of [
      "Creating sandbox",
      "Writing files",
      "Cloning repo",
      "Installing dependencies",
      "Starting harness",
      "Ready",
    ])
      await expect(progress).toContainText(label);
    await expect(step(page, "starting_harness")).toHaveAttribute("data-state", "done");
    await expect(step(page, "starting_harness")).toContainText(/\d+ ms|\d\.\d+ s/);
    await expect(step(page, "cloning_repo")).toHaveAttribute("data-state", "skipped");
    await expect(step(page, "ready")).toContainText(/total \d/);

    const session = await waitForSession(request, sessionId, ["ready"]);
    const sandbox = page.getByRole("region", { name: "Sandbox" });
    await expect(sandbox).toContainText(session.sandbox.driver);
    await expect(sandbox).toContainText(session.sandbox.isolation);
    if (session.sandbox.isolation === "none") {
      await expect(page.getByRole("note", { name: "No isolation" })).toContainText(NO_ISOLATION);
    }

    // The boot log shows what the sandbox wrote; the timeline the session's events.
    const logs = await request.get(`${SESSIONS}/${sessionId}/sandbox_logs`, {
      headers: { authorization: `Bearer ${process.env.HANGAR_UI_MASTER_KEY}` },
    });
    const firstLine = (await logs.text()).split("\n")[0] as string;
    const bootTab = page.getByRole("tab", { name: "Boot log" });
    await expect(bootTab).toHaveAttribute("aria-selected", "true");
    await expect(page.getByRole("region", { name: "Boot log" })).toContainText(firstLine);
    await expect(page.getByRole("button", { name: "Follow" })).toHaveAttribute("aria-pressed", "true");
    await screenshotBothThemes(page, "session-viewer-ready");

    await bootTab.focus();
    await page.keyboard.press("ArrowRight");
    await expect(page.getByRole("tab", { name: "Timeline" })).toHaveAttribute("aria-selected", "true");
    const events = page.getByRole("region", { name: "Session events" });
    await expect(events).toContainText("Initial prompt (queued): List the files.");
    await expect(events).toContainText("Status ready");
    // The per-session secret is write-only: never shown back.
    await expect(page.locator("body")).not.toContainText(canary);

    // The sessions list, from the sidebar.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sessions" }).click();
    await expect(page.getByRole("heading", { name: "Sessions", level: 1 })).toBeVisible();
    const row = page.getByRole("row").filter({ hasText: `${tag} boot` });
    await expect(row).toContainText("Ready");
    await expect(row.getByRole("link", { name: `${tag}-agent` })).toHaveAttribute(
      "href",
      `/agents/${agent.id}`,
    );
    if (session.sandbox.isolation === "none") {
      await expect(row.getByRole("img", { name: NO_ISOLATION })).toBeVisible();
    }
    await page.getByLabel("Filter by agent").selectOption(agent.id);
    await expect(page).toHaveURL(new RegExp(`agent=${agent.id}`));
    await expect(page.getByRole("table", { name: "Sessions" }).getByRole("row")).toHaveCount(2);
    await page
      .getByRole("group", { name: "Filter by status" })
      .getByRole("button", { name: "Failed" })
      .click();
    await expect(page.getByText("No sessions match these filters.")).toBeVisible();
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect(row).toBeVisible();
    await screenshotBothThemes(page, "sessions-list");

    // Stop, with a confirmation, and see it dead.
    await row.getByRole("link", { name: `${tag} boot` }).click();
    await expect(page).toHaveURL(new RegExp(`/sessions/${sessionId}$`));
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    const confirm = page.getByRole("dialog", { name: `Stop ${tag} boot?` });
    await expect(confirm).toBeVisible();
    await confirm.getByRole("button", { name: "Stop session" }).click();
    await expect(confirm).toBeHidden();
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Dead");
    await expect(
      page.getByRole("region", { name: "Session" }).getByRole("heading", { name: "Stopped" }),
    ).toBeVisible();
    await expect(page.getByRole("button", { name: "Stop", exact: true })).toBeDisabled();
    expect((await apiCall(request, "GET", `${SESSIONS}/${sessionId}`)).body.status).toBe("dead");
    await screenshotBothThemes(page, "session-viewer-dead");

    // The agent page lists it among its recent sessions.
    await page.goto(`/agents/${agent.id}`);
    const recent = page.getByRole("list", { name: "Recent sessions" });
    await expect(recent.getByRole("listitem")).toHaveCount(1);
    await expect(recent).toContainText(`${tag} boot`);
    await expect(recent).toContainText("Dead");
    await screenshotBothThemes(page, "agent-detail-sessions");
  } finally {
    await stopQuietly(request, sessionId);
  }
});

test("[SESSIONS] a repository that cannot be cloned fails the boot and says why", async ({
  page,
  request,
}) => {
  const tag = unique("fail");
  const agent = await createAgent(request, {
    name: `${tag}-agent`,
    harness_id: "claude-agent-sdk",
    repo_url: "https://git.invalid/x.git",
  });
  const created = await apiCall(request, "POST", `${AGENTS}/${agent.id}/session`, { title: `${tag} clone` });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  try {
    await page.goto(`/sessions/${id}`);
    const failed = await waitForSession(request, id, ["failed", "ready"]);
    expect(failed.status).toBe("failed");
    expect(failed.failure_reason).toMatch(/clone failed/);

    await expect(page.getByRole("heading", { level: 1 })).toContainText("Failed");
    const alert = page.getByRole("region", { name: "Session" }).getByRole("alert");
    await expect(alert).toContainText(failed.failure_reason);
    await expect(step(page, "cloning_repo")).toHaveAttribute("data-state", "failed");
    await expect(step(page, "writing_files")).toHaveAttribute("data-state", "done");
    await expect(step(page, "ready")).toHaveAttribute("data-state", "pending");
    await expect(page.getByRole("region", { name: "Boot log" })).toContainText("git.invalid");
    await expect(page.getByRole("button", { name: "Stop", exact: true })).toBeDisabled();
    await screenshotBothThemes(page, "session-viewer-failed");

    // Restart offers the per-session env var editor; Escape closes it without restarting.
    await page.getByRole("button", { name: "Restart" }).click();
    const restart = page.getByRole("dialog", { name: `Restart ${tag} clone?` });
    await expect(restart).toBeVisible();
    await expect(restart.getByRole("button", { name: "Add variable" })).toBeVisible();
    await expect(restart).toContainText("GIT_TOKEN is used to clone the agent's repository");
    await screenshotBothThemes(page, "session-restart-dialog");
    await page.keyboard.press("Escape");
    await expect(restart).toBeHidden();
    expect((await apiCall(request, "GET", `${SESSIONS}/${id}`)).body.status).toBe("failed");

    // Restarting (here with a GIT_TOKEN for the clone) boots a new sandbox, which fails the same way;
    // the timeline records both boots.
    const token = `token-${tag}`;
    await page.getByRole("button", { name: "Restart" }).click();
    await restart.getByRole("button", { name: "Add variable" }).click();
    await restart.getByLabel("Name of variable 1").fill("GIT_TOKEN");
    await restart.getByRole("textbox", { name: "Value of GIT_TOKEN" }).fill(token);
    await expect(restart.getByRole("alert")).toHaveCount(0);
    await restart.getByRole("button", { name: "Restart session" }).click();
    await expect(restart).toBeHidden();
    await page.getByRole("tab", { name: "Timeline" }).click();
    await expect(page.getByRole("region", { name: "Session events" })).toContainText(
      "Status creating: restart",
    );
    await waitForSession(request, id, ["failed", "ready"]);
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Failed");
    await expect(page.locator("body")).not.toContainText(token);

    // The list shows the reason under the status.
    await page.goto(`/sessions?agent=${agent.id}`);
    const row = page.getByRole("row").filter({ hasText: `${tag} clone` });
    await expect(row).toContainText("Failed");
    await expect(row).toContainText("clone failed");
  } finally {
    await stopQuietly(request, id);
  }
});

test("the sessions list starts a session for a chosen agent", async ({ page, request }) => {
  const agent = await createAgent(request, { name: unique("list-start"), harness_id: "claude-agent-sdk" });
  let sessionId: string | undefined;
  try {
    await page.goto("/sessions");
    await page.getByRole("button", { name: "New session" }).click();
    const picker = page.getByRole("dialog", { name: "New session" });
    await picker.getByLabel("Agent").selectOption(agent.id);
    await picker.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("dialog", { name: `New session of ${agent.name}` })).toBeVisible();
    await page.getByRole("button", { name: "Start session" }).click();
    await expect(page).toHaveURL(/\/sessions\/sess_/);
    sessionId = page.url().split("/").pop();
    await waitForSession(request, sessionId!, ["ready"]);
  } finally {
    await stopQuietly(request, sessionId);
  }
});

test("a session made through the Managed Agents API shows in the list and the viewer like any other", async ({
  page,
  request,
}) => {
  const tag = unique("facade");
  const env = await apiCall(request, "POST", "/v1/environments", { name: `${tag}-env` });
  const agent = await apiCall(request, "POST", "/v1/agents", {
    name: `${tag}-agent`,
    model: "claude-sonnet-4-6",
  });
  const created = await apiCall(request, "POST", "/v1/sessions", {
    agent: agent.body.id,
    environment_id: env.body.id,
    title: `${tag} via SDK`,
    initial_events: [
      { type: "user.message", content: [{ type: "text", text: "REPLY: hello from the facade" }] },
    ],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const id = created.body.id as string;
  try {
    await waitForSession(request, id, ["ready"], 90_000);
    await page.goto("/sessions");
    const row = page.getByRole("row", { name: new RegExp(`${tag} via SDK`) });
    await expect(row).toBeVisible();
    await row.getByRole("link", { name: `${tag} via SDK` }).click();
    await expect(page).toHaveURL(new RegExp(`/sessions/${id}`));
    const log = page.getByRole("log", { name: "Conversation" });
    await expect(log.getByRole("article", { name: "Reply from the agent" }).first()).toContainText(
      "hello from the facade",
      { timeout: 60_000 },
    );
    await screenshotBothThemes(page, "session-from-managed-agents-api");
  } finally {
    await stopQuietly(request, id);
  }
});
