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
} from "./fixtures";

function thread(page: Page) {
  const log = page.getByRole("log", { name: "Conversation" });
  return {
    log,
    mine: log.getByRole("article", { name: "Your message" }),
    replies: log.getByRole("article", { name: "Reply from the agent" }),
    box: page.getByRole("textbox", { name: /^Message to/ }),
    send: page.getByRole("button", { name: "Send message" }),
    stop: page.getByRole("button", { name: "Stop the turn" }),
  };
}

// The scripted model streams a text in four chunks, SLOW: <ms> apart.
const WORDS = Array.from({ length: 40 }, (_, i) => `word${i + 1}`).join(" ");

test("[CHAT] talk to an Agent SDK session: initial prompt, streaming, reload mid-stream, tools, stop", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const tag = unique("chat");
  const agent = await createAgent(request, { name: `${tag}-agent`, harness_id: "claude-agent-sdk" });
  let sessionId: string | undefined;
  try {
    // The dialog's initial prompt is answered once the session is ready, and shows in the thread.
    await page.goto(`/agents/${agent.id}`);
    await page.getByRole("button", { name: "New session" }).click();
    const dialog = page.getByRole("dialog", { name: `New session of ${tag}-agent` });
    await dialog.getByLabel("Title").fill(`${tag} chat`);
    await dialog.getByLabel(/Initial prompt/).fill("REPLY: hello from the initial prompt");
    await dialog.getByRole("button", { name: "Start session" }).click();
    await expect(page).toHaveURL(/\/sessions\/sess_[0-9a-z]+$/);
    sessionId = page.url().split("/").pop() as string;

    const { log, mine, replies, box, send, stop } = thread(page);
    await expect(log).toHaveAttribute("aria-live", "polite");
    await expect(mine.first()).toContainText("REPLY: hello from the initial prompt");
    await expect(replies).toHaveCount(1, { timeout: 30_000 });
    await expect(replies.first()).toContainText("hello from the initial prompt");
    await expect(replies.first().getByLabel("Usage")).toContainText(/tokens in .* out/);
    await expect(page.getByRole("status", { name: "Connection" })).toHaveText("Live");

    // Shift+Enter is a new line and sends nothing; Enter sends.
    await box.fill("first line");
    await box.press("Shift+Enter");
    await box.pressSequentially("second line");
    await expect(box).toHaveValue("first line\nsecond line");
    await expect(mine).toHaveCount(1);
    await box.fill("REPLY: hello from the browser test");
    await box.press("Enter");
    await expect(box).toHaveValue("");
    await expect(mine).toHaveCount(2);
    await expect(mine.nth(1)).toHaveText("REPLY: hello from the browser test");
    await expect(replies).toHaveCount(2);
    await expect(replies.nth(1)).toContainText("hello from the browser test");
    await expect(replies.nth(1).getByLabel("Usage")).toBeVisible();
    await expect(replies.nth(1)).not.toHaveAttribute("aria-busy", "true");

    // A slow reply streams in; a reload in the middle shows the same thread, the reply once.
    const long = `Streaming survives a reload. ${WORDS} THE-END`;
    await box.fill(`SLOW: 1500\nREPLY: ${long}`);
    await box.press("Enter");
    const slow = replies.nth(2);
    await expect(slow).toContainText("Streaming survives");
    await expect(slow).not.toContainText("THE-END");
    await expect(slow).toHaveAttribute("aria-busy", "true");
    await expect(stop).toBeVisible();
    await expect(send).toBeDisabled();
    await expect(box).toBeEditable();
    await page.reload();
    await expect(replies.nth(2)).toHaveAttribute("aria-busy", "true");
    await expect(replies.nth(2)).toContainText("THE-END", { timeout: 20_000 });
    await expect(replies.nth(2).getByLabel("Usage")).toBeVisible();
    await expect(replies).toHaveCount(3);
    await expect(mine).toHaveCount(3);
    const shown = await replies.nth(2).innerText();
    expect(shown.split("Streaming survives a reload.").length - 1).toBe(1);
    expect(shown.split("THE-END").length - 1).toBe(1);
    expect(shown).toContain(long);
    const api = await apiCall(request, "GET", `${SESSIONS}/${sessionId}/messages`);
    expect(api.body).toHaveLength(6);
    expect(api.body[5].parts.filter((p: any) => p.type === "text").map((p: any) => p.text)).toEqual([long]);

    // A shell tool: a collapsible block per call with its input and output.
    await box.fill("THINK: look before writing\nRUN: echo ui > ui.txt\nRUN: cat ui.txt");
    await box.press("Enter");
    const tools = replies.nth(3);
    await expect(tools.getByLabel("Usage")).toBeVisible({ timeout: 20_000 });
    const echo = tools.getByRole("button", { name: /Bash\s*echo ui > ui\.txt/ });
    const cat = tools.getByRole("button", { name: /Bash\s*cat ui\.txt/ });
    await expect(echo).toHaveAttribute("aria-expanded", "false");
    await echo.click();
    await expect(echo).toHaveAttribute("aria-expanded", "true");
    await expect(tools).toContainText('"command": "echo ui > ui.txt"');
    await expect(tools).toContainText("(Bash completed with no output)");
    await cat.focus();
    await page.keyboard.press("Enter");
    await expect(cat).toHaveAttribute("aria-expanded", "true");
    await expect(tools.locator("pre").filter({ hasText: /^ui$/ })).toBeVisible();
    const thinking = tools.getByRole("button", { name: /Thinking/ });
    await thinking.click();
    await expect(tools).toContainText("look before writing");
    await screenshotBothThemes(page, "session-chat");

    // Stop ends the running turn; the reply says so.
    await box.fill(`SLOW: 2000\nREPLY: This reply is stopped half way. ${WORDS}`);
    await box.press("Enter");
    await expect(replies.nth(4)).toContainText("This reply is");
    await stop.click();
    await expect(replies.nth(4)).toContainText("Stopped before it finished.");
    await expect(replies.nth(4)).not.toContainText("word40");
    await expect(send).toBeDisabled(); // nothing typed
    await box.fill("REPLY: after the stop");
    await expect(send).toBeEnabled();
    await send.click();
    await expect(replies.nth(5)).toContainText("after the stop");

    // A stopped session keeps its thread, read-only.
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await page
      .getByRole("dialog", { name: `Stop ${tag} chat?` })
      .getByRole("button", { name: "Stop session" })
      .click();
    await expect(page.getByRole("heading", { name: "Stopped" })).toBeVisible();
    await expect(page.getByText("its conversation is read-only")).toBeVisible();
    await expect(box).toHaveCount(0);
    await expect(replies).toHaveCount(6);
    await expect(page.getByRole("status", { name: "Connection" })).toHaveText("Read-only");
    await screenshotBothThemes(page, "session-chat-dead");
  } finally {
    await stopQuietly(request, sessionId);
  }
});

// ---------------------------------------------------------------------------------------------------
// A scripted session: the API answers are fixtures, so the thread can hold what the built-in model
// never produces (permission prompts, failed tools and turns, stalls, hostile markdown).

const MOCK = "sess_chatmock01";
const T0 = Date.parse("2026-01-01T10:00:00Z");

const mockSession = {
  id: MOCK,
  agent_id: "agt_chatmock01",
  title: "Scripted thread",
  status: "ready",
  phase: "ready",
  phase_detail: null,
  failure_reason: null,
  harness_id: "opencode",
  model: "openai/gpt-5",
  supports_tui: false,
  sandbox: { driver: "local", isolation: "namespaces" },
  spawn_mode: "cold",
  timings: { total: 812, creating_sandbox: 400, writing_files: 50, starting_harness: 362 },
  idle_timeout_ms: 1_800_000,
  created_at: new Date(T0).toISOString(),
  last_seen_at: new Date(T0).toISOString(),
  ready_at: new Date(T0 + 812).toISOString(),
  stopped_at: null,
};

const info = (id: string, role: "user" | "assistant", seq: number, extra: Record<string, unknown> = {}) => ({
  id,
  sessionID: MOCK,
  role,
  time: { created: T0 + seq * 1000 },
  seq,
  ...extra,
});

const HOSTILE = [
  "Here is **the plan**, with `inline code` and a [link](https://example.com/docs):",
  "",
  "1. read the file",
  "2. fix it",
  "",
  "```ts",
  "const x = 1 < 2;",
  "```",
  "",
  '<script>window.__pwned = 1</script> <img src="x" onerror="window.__pwned = 2">',
  "",
  "A [bad link](javascript:window.__pwned=3) and an ![image](https://example.com/pixel.png).",
].join("\n");

const MESSAGES = [
  {
    info: info("usr_1", "user", 1),
    parts: [{ id: "p1", messageID: "usr_1", type: "text", text: "Fix the flaky test" }],
  },
  {
    info: info("msg_1", "assistant", 9, {
      time: { created: T0 + 2000, completed: T0 + 6400 },
      finish: "stop",
      cost: 0.0123,
      tokens: { input: 1200, output: 85, reasoning: 30, cache: { read: 400, write: 0 } },
    }),
    parts: [
      { id: "r1", messageID: "msg_1", type: "reasoning", text: "The test races the server start." },
      {
        id: "call_1",
        messageID: "msg_1",
        type: "tool",
        callID: "call_1",
        tool: "bash",
        state: { status: "error", input: { command: "npm test" }, error: "exit 1: 2 failing" },
      },
      { id: "t1", messageID: "msg_1", type: "text", text: HOSTILE },
    ],
  },
  {
    info: info("usr_2", "user", 10),
    parts: [{ id: "p2", messageID: "usr_2", type: "text", text: "Try again" }],
  },
  {
    info: info("msg_2", "assistant", 12, {
      time: { created: T0 + 11_000, completed: T0 + 12_000 },
      finish: "error",
      error: { message: "the model gateway answered 429" },
    }),
    parts: [],
  },
];

const ev = (seq: number, type: string, data: Record<string, unknown>) => ({
  seq,
  type,
  data,
  at: new Date(T0 + seq * 1000).toISOString(),
});

const turn = { turn_id: "turn_3", message_id: "msg_3" };
const LIVE_EVENTS = [
  ev(13, "user_message", { message_id: "usr_3", text: "Delete the build folder" }),
  ev(14, "turn_started", { ...turn, user_message_seq: 13 }),
  ev(15, "thinking_delta", { ...turn, part_id: "r3", text: "Needs a shell." }),
  ev(16, "tool_call", { ...turn, call_id: "call_3", tool: "bash", input: { command: "rm -rf build" } }),
  ev(17, "permission_request", {
    ...turn,
    permission_id: "perm_3",
    tool: "bash",
    input: { command: "rm -rf build" },
    title: "Run rm -rf build?",
  }),
  ev(18, "stalled", { ...turn, quiet_ms: 45_000 }),
];
const AFTER_REPLY = [
  ev(19, "permission_reply", { ...turn, permission_id: "perm_3", reply: "once" }),
  ev(20, "tool_result", {
    ...turn,
    call_id: "call_3",
    tool: "bash",
    output: "removed 12 files",
    is_error: false,
  }),
  ev(21, "assistant_delta", { ...turn, part_id: "t3", text: "Removed " }),
  ev(22, "assistant_delta", { ...turn, part_id: "t3", text: "the build folder." }),
  ev(23, "turn_complete", {
    ...turn,
    finish: "stop",
    tokens: { input: 900, output: 12 },
    cost_usd: 0.004,
    duration_ms: 900,
  }),
];

const sse = (events: ReturnType<typeof ev>[]) =>
  "retry: 300\n\n" +
  events.map((e) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");

type Mock = {
  session: Record<string, unknown>;
  messages: unknown[];
  lastSeq: number;
  events: ReturnType<typeof ev>[];
  /** Where each events connection resumed (Last-Event-ID, else ?after). */
  resumes: number[];
  answers: { url: string; body: unknown }[];
  onAnswer?: () => void;
};

/** Serves the mocked session's API from `mock`, which the test may change as it goes. */
async function routeMock(page: Page, mock: Mock) {
  const BASE = `${SESSIONS}/${MOCK}`;
  await page.route(`**${BASE}`, (route) => route.fulfill({ json: mock.session }));
  await page.route(`**${BASE}/messages`, (route) =>
    route.fulfill({ json: mock.messages, headers: { "x-hangar-last-seq": String(mock.lastSeq) } }),
  );
  await page.route(`**${BASE}/sandbox_logs*`, (route) => route.fulfill({ body: "opencode serve\n" }));
  await page.route(`**${AGENTS}/agt_chatmock01`, (route) =>
    route.fulfill({ status: 404, json: { error: { code: "not_found", message: "no agent" } } }),
  );
  // Each connection gets what follows its resume point, then ends: EventSource reconnects (with
  // Last-Event-ID), which is how a dropped stream looks to the page.
  await page.route(`**${BASE}/events*`, async (route) => {
    const req = route.request();
    const after = Number(
      (await req.headerValue("last-event-id")) ?? new URL(req.url()).searchParams.get("after"),
    );
    mock.resumes.push(after);
    await route.fulfill({
      headers: { "content-type": "text/event-stream" },
      body: sse(mock.events.filter((e) => e.seq > after)),
    });
  });
  await page.route(`**${BASE}/permissions/*`, async (route) => {
    mock.answers.push({ url: route.request().url(), body: route.request().postDataJSON() });
    mock.onAnswer?.();
    await route.fulfill({ json: { ok: true } });
  });
}

test("[CHAT] while the session boots, its initial prompt waits in the thread; the composer comes with ready", async ({
  page,
}) => {
  const queued = {
    info: info("usr_2", "user", 2),
    parts: [{ id: "prt_2", messageID: "usr_2", type: "text", text: "Summarise the README" }],
  };
  const mock: Mock = {
    session: { ...mockSession, status: "creating", phase: "starting_harness", ready_at: null, timings: {} },
    messages: [queued],
    lastSeq: 5,
    events: [],
    resumes: [],
    answers: [],
  };
  await routeMock(page, mock);
  await page.goto(`/sessions/${MOCK}`);
  const { mine, box } = thread(page);
  const main = page.getByRole("region", { name: "Session" });
  await expect(main.getByRole("heading", { name: "Booting: Starting harness…" })).toBeVisible();
  await expect(mine).toHaveCount(1);
  await expect(mine.first()).toContainText("Summarise the README");
  await expect(mine.first()).toContainText("Queued: sent once the session is ready");
  await expect(main).toContainText("The message box appears once the session is ready.");
  await expect(box).toHaveCount(0);
  await screenshotBothThemes(page, "session-chat-booting");

  // The status event makes the page re-read the session at once; the turn on the prompt follows.
  mock.session = { ...mockSession };
  mock.events = [
    ev(6, "status", { status: "ready", timings: mockSession.timings }),
    ev(7, "turn_started", { turn_id: "turn_1", message_id: "msg_1", user_message_seq: 2 }),
    ev(8, "assistant_delta", { turn_id: "turn_1", message_id: "msg_1", part_id: "t1", text: "The README " }),
    ev(9, "assistant_delta", {
      turn_id: "turn_1",
      message_id: "msg_1",
      part_id: "t1",
      text: "explains setup.",
    }),
  ];
  await expect(box).toBeVisible();
  await expect(main.getByRole("heading", { name: /^Booting/ })).toHaveCount(0);
  await expect(mine.first()).not.toContainText("Queued");
  await expect(thread(page).replies.first()).toContainText("The README explains setup.");
  await expect(thread(page).stop).toBeVisible();
  expect(mock.resumes[0]).toBe(5);
});

test("[CHAT] a scripted thread: markdown stays inert, tools, thinking, errors, a stall and a permission prompt", async ({
  page,
}) => {
  const mock: Mock = {
    session: mockSession,
    messages: MESSAGES,
    lastSeq: 12,
    events: LIVE_EVENTS,
    resumes: [],
    answers: [],
  };
  mock.onAnswer = () => (mock.events = [...LIVE_EVENTS, ...AFTER_REPLY]);
  await routeMock(page, mock);

  await page.goto(`/sessions/${MOCK}`);
  const { log, mine, replies, box, send, stop } = thread(page);

  // The loaded thread: markdown rendered as elements, raw HTML as text, no javascript: link.
  await expect(mine.first()).toHaveText("Fix the flaky test");
  const first = replies.first();
  await expect(first.locator("strong")).toHaveText("the plan");
  await expect(first.locator("ol > li")).toHaveCount(2);
  await expect(first.locator("pre code")).toHaveText("const x = 1 < 2;");
  const link = first.getByRole("link", { name: "link", exact: true });
  await expect(link).toHaveAttribute("href", "https://example.com/docs");
  await expect(link).toHaveAttribute("target", "_blank");
  await expect(first).toContainText("<script>window.__pwned = 1</script>");
  await expect(log.locator("script, img")).toHaveCount(0);
  await expect(first).toContainText("A bad link and an image.");
  await expect(first.getByRole("link", { name: "bad link" })).toHaveCount(0);
  await expect(first.getByRole("link", { name: "image" })).toHaveAttribute(
    "href",
    "https://example.com/pixel.png",
  );
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  await expect(first.getByLabel("Usage")).toHaveText(
    "1,200 tokens in · 85 out · 30 reasoning · 400 cached · $0.0123 · 4.40 s",
  );

  // A failed tool is red with its error; a failed turn is an alert.
  const failedTool = first.getByRole("button", { name: /bash\s*npm test\s*failed/ });
  await failedTool.click();
  await expect(first).toContainText("exit 1: 2 failing");
  await expect(replies.nth(1).getByRole("alert")).toHaveText(
    "The turn failed: the model gateway answered 429",
  );

  // The live turn: thinking, a running tool, a permission prompt and a stall notice.
  const live = replies.nth(2);
  await expect(mine.nth(2)).toHaveText("Delete the build folder");
  await expect(live).toHaveAttribute("aria-busy", "true");
  await expect(live.getByRole("button", { name: /bash\s*rm -rf build\s*running/ })).toBeVisible();
  await expect(live.getByRole("button", { name: /^Thinking Needs a shell/ })).toBeVisible();
  const card = live.getByRole("region", { name: "Permission request: Run rm -rf build?" });
  await expect(card.getByRole("button", { name: "Allow once" })).toBeEnabled();
  await expect(card.getByRole("button", { name: "Always allow bash" })).toBeEnabled();
  await expect(card.getByRole("button", { name: "Reject" })).toBeEnabled();
  await expect(live.getByRole("status")).toContainText("No output for 45 s");
  await expect(live).toContainText("Waiting for your answer…");
  await expect(stop).toBeVisible();
  await expect(send).toBeDisabled();
  // Scrolled up, the log stays put and offers a way back to the newest output.
  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  const jump = page.getByRole("button", { name: "Jump to the latest message" });
  await jump.click();
  await expect(jump).toBeHidden();
  await expect(card).toBeInViewport();
  await screenshotBothThemes(page, "session-chat-permission");

  // Answering: the POST, then the stream's permission_reply and the rest of the turn, each event once.
  await card.getByRole("button", { name: "Allow once" }).focus();
  await page.keyboard.press("Enter");
  await expect(card).toContainText("Allowed once");
  await expect(card.getByRole("button")).toHaveCount(1); // only "Details" is left
  expect(mock.answers).toEqual([
    { url: expect.stringContaining("/permissions/perm_3"), body: { reply: "once" } },
  ]);
  await expect(live).toContainText("Removed the build folder.");
  await expect(live.getByRole("status")).toHaveCount(0);
  await expect(live.getByLabel("Usage")).toContainText("900 tokens in");
  await expect(live).not.toHaveAttribute("aria-busy", "true");
  await expect(replies).toHaveCount(3);
  await expect(mine).toHaveCount(3);
  expect(mock.resumes[0]).toBe(12);
  expect(mock.resumes.length).toBeGreaterThan(1);
  await expect(log).toContainText("Removed the build folder.");
  expect((await live.innerText()).split("Removed the build folder.").length - 1).toBe(1);
  await expect(send).toBeDisabled(); // empty box

  // A refused message says why and gives the text back.
  await page.route(`**${SESSIONS}/${MOCK}/message`, (route) =>
    route.fulfill({
      status: 410,
      json: { error: { code: "gone", message: `session ${MOCK} has ended (dead); restart it to continue` } },
    }),
  );
  await box.fill("One more thing");
  await box.press("Enter");
  await expect(page.getByRole("alert").filter({ hasText: "Not sent (410)" })).toHaveText(
    `Not sent (410): session ${MOCK} has ended (dead); restart it to continue`,
  );
  await expect(box).toHaveValue("One more thing");
  await expect(mine).toHaveCount(3);
});
