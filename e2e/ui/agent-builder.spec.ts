import { AGENTS, apiCall, expect, screenshotBothThemes, test, unique } from "./fixtures";

test("[AGENTS] create an agent with every control, then read it back through the API", async ({
  page,
  request,
}) => {
  const tag = unique("ui");
  const library = (
    await apiCall(request, "POST", "/api/v1/skills", { name: `${tag}-review`, content: "Review with care." })
  ).body;

  await page.goto("/agents/new");
  await expect(page.getByRole("heading", { name: "New agent" })).toBeVisible();

  await page.getByRole("textbox", { name: "Name", exact: true }).fill(`${tag}-agent`);
  const model = page.getByRole("combobox", { name: "Model" });
  await model.fill("anthropic/claude-sonnet-4-6");
  await model.press("Escape");
  await page.getByRole("radiogroup", { name: "Harness" }).getByText("Claude Code", { exact: true }).click();
  await expect(page.getByRole("radio", { name: "Claude Code" })).toBeChecked();
  await page.getByLabel("System prompt").fill("You are careful.\nAlways run the tests.");

  // Skills: one from the library, one written inline.
  await page.getByLabel("Search the skill library").fill(`${tag}-review`);
  await page.getByRole("button", { name: `Attach ${tag}-review` }).click();
  await page.getByRole("button", { name: "Write a new skill" }).click();
  await page.getByLabel("New skill name").fill(`${tag}-inline`);
  await page.getByLabel("New skill content (markdown)").fill("Write small commits.");
  await page.getByRole("button", { name: "Save and attach" }).click();
  const attached = page.getByRole("list", { name: "Attached skills, in prompt order" }).getByRole("listitem");
  await expect(attached).toHaveCount(2);
  await expect(attached.nth(0)).toContainText(`${tag}-review`);
  await expect(attached.nth(1)).toContainText(`${tag}-inline`);

  await page.getByLabel("Repository URL").fill("https://github.com/org/repo");
  await page.getByLabel("Branch").fill("develop");
  await page.getByLabel("Python requirements").fill("requests==2.32.3");

  // Env vars: one typed, the rest pasted as a .env block.
  await page.getByRole("button", { name: "Add variable" }).click();
  await page.getByLabel("Name of variable 1").fill("GITHUB_TOKEN");
  await page.getByRole("textbox", { name: "Value of GITHUB_TOKEN" }).fill("ghp_typed");
  await page.getByRole("button", { name: "Paste .env" }).click();
  await page
    .getByLabel("Contents of a .env file")
    .fill('# comment\nexport API_URL=https://api.example.com\nGREETING="hello world"\n');
  await page.getByRole("button", { name: "Add 2 variables" }).click();

  // Egress: a typed rule, a preset, a denied address.
  const allowed = page.getByRole("textbox", { name: "Allowed hosts" });
  await allowed.fill("api.example.com");
  await allowed.press("Enter");
  await page.getByRole("button", { name: "GitHub", exact: true }).click();
  const denied = page.getByRole("textbox", { name: "Denied hosts" });
  await denied.fill("169.254.169.254");
  await denied.press("Enter");

  // A file dropped on the drop zone.
  await page.evaluate(() => {
    const zone = document.querySelector('[aria-label="Add files: drop them here or press Enter to choose"]');
    const data = new DataTransfer();
    data.items.add(new File(["#!/bin/sh\necho hi\n"], "setup.sh", { type: "text/x-sh" }));
    zone?.dispatchEvent(new DragEvent("dragover", { bubbles: true, dataTransfer: data }));
    zone?.dispatchEvent(new DragEvent("drop", { bubbles: true, dataTransfer: data }));
  });
  await expect(page.getByLabel("Sandbox path of setup.sh")).toHaveValue("~/setup.sh");
  await page.getByLabel("Sandbox path of setup.sh").fill("~/bin/setup.sh");

  const mcp = page.getByRole("textbox", { name: "MCP servers" });
  await mcp.fill("github");
  await mcp.press("Enter");

  await screenshotBothThemes(page, "agent-new-filled");
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page).toHaveURL(/\/agents\/agt_[0-9a-z]+$/);
  const id = page.url().split("/").pop() as string;

  const agent = (await apiCall(request, "GET", `${AGENTS}/${id}`)).body;
  const inline = agent.attached_skill_ids[1];
  expect(agent).toMatchObject({
    name: `${tag}-agent`,
    model: "anthropic/claude-sonnet-4-6",
    harness_id: "claude-code",
    supports_tui: true,
    repo_url: "https://github.com/org/repo",
    branch: "develop",
    requirements: "requests==2.32.3",
    mcp_servers: ["github"],
    allow_out: ["api.example.com", "github.com", "*.github.com", "*.githubusercontent.com"],
    deny_out: ["169.254.169.254"],
    env_vars: { GITHUB_TOKEN: "********", API_URL: "********", GREETING: "********" },
    attached_skill_ids: [library.id, inline],
  });
  expect(agent.prompt).toBe(
    `You are careful.\nAlways run the tests.\n\n<!-- skill:${library.id} -->\nReview with care.\n\n<!-- skill:${inline} -->\nWrite small commits.`,
  );
  expect(agent.sandbox_files).toEqual([
    expect.objectContaining({
      index: 0,
      name: "setup.sh",
      sandbox_path: "~/bin/setup.sh",
      content_type: "text/x-sh",
      size: 18,
    }),
  ]);
  const file = await request.get(`${AGENTS}/${id}/files/0`, {
    headers: { authorization: `Bearer ${process.env.HANGAR_UI_MASTER_KEY}` },
  });
  expect(await file.text()).toBe("#!/bin/sh\necho hi\n");

  await expect(page.getByRole("heading", { name: `${tag}-agent` })).toBeVisible();
  await screenshotBothThemes(page, "agent-detail");
});

test("[AGENTS] client-side rules show on their fields and block the submit", async ({ page }) => {
  await page.goto("/agents/new");
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.locator("#model-error")).toContainText("model is required");

  await page.getByRole("button", { name: "Add variable" }).click();
  await page.getByLabel("Name of variable 1").fill("GIT_TOKEN");
  await expect(page.getByText("GIT_TOKEN is reserved: Hangar sets it in every sandbox")).toBeVisible();
  await page.getByLabel("Name of variable 1").fill("1BAD");
  await expect(page.getByText(/1BAD is not a valid name/)).toBeVisible();

  const allowed = page.getByRole("textbox", { name: "Allowed hosts" });
  await allowed.fill("https://github.com/x");
  await allowed.press("Enter");
  await expect(page.getByText(/is not a host \(example.com\)/)).toBeVisible();

  await page.getByLabel("Repository URL").fill("http://github.com/org/repo");
  await page.getByLabel("Branch").click();
  await expect(page.locator("#repo_url-error")).toHaveText("must use https");
  await screenshotBothThemes(page, "agent-new-errors");
});

test("[AGENTS] server-side 400 issues land on the right field", async ({ page }) => {
  await page.goto("/agents/new");
  await page.getByRole("combobox", { name: "Model" }).fill("openai/gpt-5");
  await page.getByRole("textbox", { name: "Name", exact: true }).fill(unique("server-check"));
  // Let the real server judge values the form would have refused: rewrite the outgoing body.
  await page.route("**/api/v1/managed_agents/agents", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    const body = JSON.parse(route.request().postData() ?? "{}");
    await route.continue({
      postData: JSON.stringify({
        ...body,
        branch: "--upload-pack=x",
        repo_url: "https://u:p@github.com/o/r",
      }),
    });
  });
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.locator("#branch-error")).toHaveText("must not start with -");
  await expect(page.locator("#repo_url-error")).toHaveText(/must not embed credentials/);
  await expect(page).toHaveURL(/\/agents\/new$/);
});

test("[AGENTS] edit: detach a skill, replace a secret, keep the rest; then delete", async ({
  page,
  request,
}) => {
  const tag = unique("edit");
  const a = (await apiCall(request, "POST", "/api/v1/skills", { name: `${tag}-a`, content: "A rules." }))
    .body;
  const b = (await apiCall(request, "POST", "/api/v1/skills", { name: `${tag}-b`, content: "B rules." }))
    .body;
  const created = (
    await apiCall(request, "POST", AGENTS, {
      name: `${tag}-agent`,
      model: "openai/gpt-5",
      prompt: "Base.",
      skill_ids: [a.id, b.id],
      env_vars: { KEEP_ME: "k", REPLACE_ME: "old" },
      sandbox_files: [
        { name: "a.txt", sandbox_path: "~/a.txt", content: Buffer.from("aaa").toString("base64"), size: 3 },
      ],
    })
  ).body;
  // The library moves on; the agent keeps its snapshot of A.
  await apiCall(request, "PATCH", `/api/v1/skills/${a.id}`, { content: "A rules, edited." });

  await page.goto(`/agents/${created.id}/edit`);
  await expect(page.getByRole("textbox", { name: "Name", exact: true })).toHaveValue(`${tag}-agent`);
  await expect(page.getByLabel("System prompt")).toHaveValue("Base.");
  await page.getByRole("button", { name: `Detach ${tag}-b` }).click();
  await page.getByRole("button", { name: "Replace value of REPLACE_ME" }).click();
  await page.getByRole("textbox", { name: "Value of REPLACE_ME" }).fill("new-secret");
  await page.getByLabel("System prompt").fill("Base, revised.");
  await screenshotBothThemes(page, "agent-edit");

  const patch = page.waitForRequest((r) => r.method() === "PATCH");
  await page.getByRole("button", { name: "Save changes" }).click();
  const sent = JSON.parse((await patch).postData() ?? "{}");
  expect(sent.env_vars).toEqual({ KEEP_ME: "********", REPLACE_ME: "new-secret" });
  expect(sent.expected_version).toBe(1);
  await expect(page).toHaveURL(new RegExp(`/agents/${created.id}$`));

  const agent = (await apiCall(request, "GET", `${AGENTS}/${created.id}`)).body;
  expect(agent).toMatchObject({
    version: 2,
    attached_skill_ids: [a.id],
    env_vars: { KEEP_ME: "********", REPLACE_ME: "********" },
  });
  expect(agent.prompt).toBe(`Base, revised.\n\n<!-- skill:${a.id} -->\nA rules.`);
  expect(agent.sandbox_files).toEqual([
    expect.objectContaining({ name: "a.txt", sandbox_path: "~/a.txt", size: 3 }),
  ]);

  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete agent" }).click();
  await expect(page).toHaveURL(/\/agents$/);
  expect((await apiCall(request, "GET", `${AGENTS}/${created.id}`)).status).toBe(404);
});

test("[AGENTS] list: search, sort, delete with confirmation, empty search state", async ({
  page,
  request,
}) => {
  const tag = unique("list");
  for (const n of ["bravo", "alpha"])
    await apiCall(request, "POST", AGENTS, { name: `${tag}-${n}`, model: "m/x" });
  await page.goto("/agents");
  await page.getByLabel("Search agents").fill(tag);
  const rows = page.getByRole("row").filter({ hasText: tag });
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText(`${tag}-alpha`);
  await page.getByRole("button", { name: "Name" }).click();
  await expect(page).toHaveURL(/sort=name&order=asc/);
  await expect(rows.first()).toContainText(`${tag}-alpha`);
  await page.getByRole("button", { name: "Name" }).click();
  await expect(page).not.toHaveURL(/order=asc/);
  await expect(rows.first()).toContainText(`${tag}-bravo`);
  await screenshotBothThemes(page, "agents-list");
  await page.getByRole("button", { name: `Delete ${tag}-bravo` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete agent" }).click();
  await expect(rows).toHaveCount(1);
  await page.getByLabel("Search agents").fill(`${tag}-nothing`);
  await expect(page.getByText(`No agents match “${tag}-nothing”.`)).toBeVisible();
});
