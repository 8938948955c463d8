import type { APIRequestContext, Locator, Page, WebSocketRoute } from "@playwright/test";

import {
  AGENTS,
  apiCall,
  expect,
  screenshotBothThemes,
  SESSIONS,
  test,
  unique,
  waitForSession,
} from "./fixtures";

/*
 * The browser terminal of TUI sessions: xterm.js over the session's /tty WebSocket, with the login
 * cookie. The screen is read from xterm's DOM rows.
 */

// Stopped after each test, also one that timed out (a finally block would run after the request
// fixture is gone).
const started: string[] = [];
test.afterEach(async ({ request }) => {
  for (const id of started.splice(0))
    await apiCall(request, "DELETE", `${SESSIONS}/${id}`).catch(() => undefined);
});

async function startTuiSession(request: APIRequestContext, harness: string, title: string) {
  const agent = await apiCall(request, "POST", AGENTS, {
    name: `${title}-agent`,
    harness_id: harness,
    model: "hangar-test-model",
  });
  expect(agent.status, JSON.stringify(agent.body)).toBe(201);
  const created = await apiCall(request, "POST", `${AGENTS}/${agent.body.id}/session`, { title });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  started.push(created.body.id);
  return created.body.id as string;
}

function terminal(page: Page, title: string) {
  const pane = page.getByRole("region", { name: `Terminal for ${title}` });
  return {
    pane,
    screen: pane.locator(".xterm-rows"),
    // xterm's rows sit under its screen layer, which takes the clicks.
    surface: pane.locator(".xterm-screen"),
    input: pane.locator("textarea.xterm-helper-textarea"),
    connection: pane.getByRole("status", { name: "Terminal connection" }),
  };
}

const count = async (screen: Locator, text: string) =>
  ((await screen.textContent()) ?? "").split(text).length - 1;

test("[TERMINAL] Claude Code in the browser: type, get the reply, reload to the same screen, watch read-only, take over", async ({
  page,
  context,
  request,
}) => {
  test.setTimeout(180_000);
  const title = unique("tui");
  const id = await startTuiSession(request, "claude-code", title);
  await page.goto(`/sessions/${id}`);
  const { pane, screen, surface, input, connection } = terminal(page, title);

  // The terminal appears once the session is ready, connects, and has the keyboard.
  await expect(screen).toContainText("Claude Code", { timeout: 30_000 });
  await expect(connection).toHaveText("Live");
  await expect(input).toBeFocused();
  await expect(pane.getByRole("tab", { name: "Claude Code" })).toHaveAttribute("aria-selected", "true");

  await surface.click();
  await page.keyboard.type("REPLY: hello from the browser");
  await expect(screen).toContainText("REPLY: hello from the browser");
  await page.keyboard.press("Enter");
  await expect(screen).toContainText("● hello from the browser", { timeout: 30_000 });
  await screenshotBothThemes(page, "terminal-claude-code");

  // A reload reattaches to the running program: the same screen, once, and live.
  await page.reload();
  await expect(screen).toContainText("● hello from the browser", { timeout: 15_000 });
  await expect(connection).toHaveText("Live");
  expect(await count(screen, "● hello from the browser")).toBe(1);

  // Copy: Claude Code reads the mouse, so Shift+double-click selects a word (xterm's rule); the Copy
  // button puts it on the clipboard.
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const copy = pane.getByRole("button", { name: "Copy the selection" });
  await expect(copy).toBeDisabled();
  const replyRow = screen.locator(":scope > div", { hasText: "● hello from the browser" });
  const row = (await replyRow.boundingBox())!;
  await page.keyboard.down("Shift");
  await page.mouse.dblclick(row.x + 30, row.y + row.height / 2);
  await page.keyboard.up("Shift");
  await copy.click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("hello");

  // Paste, with Ctrl+Shift+V: Claude Code asked for bracketed paste, so a two-line paste stays in
  // its prompt instead of sending the first line.
  await page.evaluate(() => navigator.clipboard.writeText("first pasted line\nsecond pasted line"));
  await surface.click();
  await page.keyboard.press("Control+Shift+V");
  await expect(screen).toContainText("second pasted line");
  await expect(screen).toContainText("first pasted line");
  await page.waitForTimeout(500);
  await expect(screen).not.toContainText("● first pasted line");
  // Escape twice clears Claude Code's prompt.
  await page.keyboard.press("Escape");
  await page.keyboard.press("Escape");
  await expect(screen).not.toContainText("second pasted line");

  // The read-only view, in a new tab: it watches and cannot type.
  const [viewer] = await Promise.all([
    context.waitForEvent("page"),
    pane.getByRole("link", { name: "Open read-only view" }).click(),
  ]);
  await expect(viewer).toHaveURL(new RegExp(`/sessions/${id}\\?view=1$`));
  const watch = terminal(viewer, title);
  await expect(watch.pane.getByText("Read-only", { exact: true })).toBeVisible();
  await expect(watch.screen).toContainText("● hello from the browser", { timeout: 15_000 });
  await expect(watch.connection).toHaveText("Live");
  await watch.surface.click();
  await viewer.keyboard.type("typed-in-the-read-only-view");
  await surface.click();
  await page.keyboard.type("typed-by-the-writer");
  await expect(watch.screen).toContainText("typed-by-the-writer");
  await expect(screen).not.toContainText("typed-in-the-read-only-view");
  await expect(watch.pane.getByRole("button", { name: "Take over" })).toHaveCount(0);
  await screenshotBothThemes(viewer, "terminal-read-only");
  // In a smaller window it keeps the writer's layout, in a smaller font, all of it in view.
  await viewer.setViewportSize({ width: 1000, height: 700 });
  await expect(async () => {
    const panel = (await watch.pane.getByRole("tabpanel").boundingBox())!;
    const drawn = (await watch.surface.boundingBox())!;
    expect(drawn.width).toBeLessThanOrEqual(panel.width);
    expect(drawn.height).toBeLessThanOrEqual(panel.height);
  }).toPass();
  await expect(watch.screen).toContainText("● hello from the browser");
  await screenshotBothThemes(viewer, "terminal-read-only-small");
  await viewer.close();

  // A second interactive tab takes the keyboard; the first can take it back.
  const second = await context.newPage();
  await second.goto(`/sessions/${id}`);
  const other = terminal(second, title);
  await expect(other.connection).toHaveText("Live", { timeout: 15_000 });
  await expect(other.screen).toContainText("typed-by-the-writer");
  await expect(pane.getByText("Another client is typing.")).toBeVisible();
  await screenshotBothThemes(page, "terminal-taken-over");
  await pane.getByRole("button", { name: "Take over" }).click();
  await expect(other.pane.getByRole("button", { name: "Take over" })).toBeVisible();
  await expect(pane.getByRole("button", { name: "Take over" })).toHaveCount(0);
  await second.close();

  // A dropped connection reconnects by itself and says the session kept running.
  const flaky = await context.newPage();
  const sockets: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
  await flaky.routeWebSocket(/\/tty\?/, (ws) => {
    sockets.push({ page: ws, server: ws.connectToServer() });
  });
  await flaky.goto(`/sessions/${id}`);
  const dropped = terminal(flaky, title);
  await expect(dropped.connection).toHaveText("Live", { timeout: 15_000 });
  await sockets[0]!.page.close({ code: 4000, reason: "dropped by the test" });
  await sockets[0]!.server.close();
  await expect(dropped.connection).toContainText(/Reconnecting in 1 s · attempt 1|Reconnecting…/);
  await expect(dropped.connection).toHaveText("Reattached — the session kept running", {
    timeout: 10_000,
  });
  await screenshotBothThemes(flaky, "terminal-reattached");
  expect(await count(dropped.screen, "● hello from the browser")).toBe(1);
  await expect(dropped.connection).toHaveText("Live", { timeout: 10_000 });
  await flaky.close();

  // Stopping the session ends the terminal: no more reconnecting, the last screen stays.
  await apiCall(request, "DELETE", `${SESSIONS}/${id}`);
  await expect(connection).toContainText("Session ended", { timeout: 15_000 });
  await expect(
    page.getByRole("region", { name: "Session" }).getByRole("heading", { name: "Stopped" }),
  ).toBeVisible();
  // The last screen stays: the conversation, or Claude Code's own goodbye when its exit output (it
  // redraws on SIGTERM) arrived before the terminal closed.
  await expect(screen).toContainText(/● hello from the browser|Resume this session with/);
  await screenshotBothThemes(page, "terminal-ended");
});

test("[TERMINAL] Codex: the boot in place of the terminal, typing into its composer, a shell in the sandbox", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const title = unique("codex");
  const id = await startTuiSession(request, "codex", title);
  // Hold the page on the boot: the session reads as still starting until the route is removed.
  const detail = `**${SESSIONS}/${id}`;
  await page.route(detail, async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    await route.fulfill({
      response: res,
      json: { ...body, status: "creating", phase: "starting_harness", ready_at: null, timings: {} },
    });
  });
  await page.goto(`/sessions/${id}`);
  const main = page.getByRole("region", { name: "Session" });
  await expect(main.getByRole("heading", { name: "Booting: Starting harness…" })).toBeVisible();
  const session = await waitForSession(request, id, ["ready"]);
  expect(session.status).toBe("ready");
  await expect(main.getByLabel("Latest sandbox output")).not.toBeEmpty();
  const { pane, screen, surface, connection } = terminal(page, title);
  await expect(pane).toHaveCount(0);
  await screenshotBothThemes(page, "terminal-booting");
  // Wait for a request the handler is still holding: removing the route under it would leave the
  // handler fulfilling a request the fallback already answered.
  await page.unrouteAll({ behavior: "wait" });

  await expect(screen).toContainText("OpenAI Codex", { timeout: 30_000 });
  await expect(connection).toHaveText("Live");
  await surface.click();
  await page.keyboard.type("typed from the browser");
  await expect(screen).toContainText("typed from the browser");
  await screenshotBothThemes(page, "terminal-codex");

  // The shell tab: a login shell in the same sandbox; the Codex tab keeps its screen.
  await pane.getByRole("tab", { name: "Shell" }).click();
  await expect(connection).toHaveText("Live", { timeout: 15_000 });
  await surface.click();
  await page.keyboard.type("echo shell-$((6*7)) in $(hostname)");
  await page.keyboard.press("Enter");
  await expect(screen).toContainText("shell-42 in sandbox");
  await screenshotBothThemes(page, "terminal-shell");
  await pane.getByRole("tab", { name: "Codex" }).click();
  await expect(screen).toContainText("typed from the browser", { timeout: 15_000 });
});
