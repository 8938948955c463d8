import type { APIRequestContext, Locator, Page } from "@playwright/test";

import { apiCall, expect, screenshotBothThemes, test, unique } from "./fixtures";

const SKILLS = "/api/v1/skills";

type ApiSkill = {
  id: string;
  name: string;
  description: string | null;
  content: string;
  version: number;
};

async function createSkill(
  request: APIRequestContext,
  input: { name: string; description?: string | null; content: string },
) {
  const res = await apiCall(request, "POST", SKILLS, input);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as ApiSkill;
}

async function getSkill(request: APIRequestContext, id: string) {
  return apiCall(request, "GET", `${SKILLS}/${id}`);
}

/** Every skill whose name or id contains `search`, through the API. */
async function searchSkills(request: APIRequestContext, search: string) {
  const res = await apiCall(request, "GET", `${SKILLS}?search=${encodeURIComponent(search)}&limit=100`);
  expect(res.status).toBe(200);
  return res.body.data as ApiSkill[];
}

/** The list/create endpoint, with or without a query string. */
const isSkillsCollection = (url: URL) => url.pathname === SKILLS;

/** Leaving a form with unsaved edits asks first (beforeunload): say yes, the test is done with it. */
function leaveDirtyFormsWithoutAsking(page: Page) {
  page.on("dialog", (dialog) => void (dialog.type() === "beforeunload" ? dialog.accept() : dialog.dismiss()));
}

const field = (page: Page, label: "Name" | "Description" | "Content") =>
  page.getByLabel(label, { exact: true });

/** The names in the library table, top to bottom (skeleton rows are aria-hidden, so not counted). */
function tableLinks(page: Page): Locator {
  return page.getByRole("table", { name: "Skills" }).getByRole("link");
}

test("[SKILLS] library: write a skill with a preview, create it, read it back through the API", async ({
  page,
  request,
}) => {
  const name = unique("deploy-checklist");
  await page.goto("/skills");
  await expect(page.getByRole("heading", { name: "Skills", level: 1 })).toBeVisible();
  await page.getByRole("link", { name: "New skill" }).first().click();
  await expect(page).toHaveURL(/\/skills\/new$/);
  await expect(page.getByRole("heading", { name: "New skill", level: 1 })).toBeVisible();

  // The name field has autofocus: typing goes straight into it.
  await expect(field(page, "Name")).toBeFocused();
  await page.keyboard.type(name);
  await field(page, "Description").fill("Use before every production deploy.");
  await field(page, "Content").click();
  await page.keyboard.type(
    "# Deploy checklist\n\n- Run the **tests**\n- Tag the release\n\nSee `CHANGELOG.md`.",
  );
  await expect(page.getByText("0.1 KB / 256 KB")).toBeVisible();

  // Preview renders the markdown; the textarea is hidden meanwhile and keeps its text.
  const previewTab = page.getByRole("tab", { name: "Preview" });
  await previewTab.click();
  await expect(previewTab).toHaveAttribute("aria-selected", "true");
  const preview = page.getByRole("tabpanel", { name: "Preview" });
  await expect(preview.getByRole("heading", { name: "Deploy checklist", level: 1 })).toBeVisible();
  await expect(preview.getByRole("listitem")).toHaveText(["Run the tests", "Tag the release"]);
  await expect(preview.getByText("tests", { exact: true })).toHaveJSProperty("tagName", "STRONG");
  await expect(preview.getByText("CHANGELOG.md", { exact: true })).toHaveJSProperty("tagName", "CODE");
  await expect(field(page, "Content")).toBeHidden();
  await page.getByRole("tab", { name: "Write" }).click();
  await expect(field(page, "Content")).toBeVisible();
  await expect(preview).toBeHidden();

  await page.getByRole("button", { name: "Create skill" }).click();
  await expect(page).toHaveURL(/\/skills\/skl_[0-9a-z]+$/);
  const id = page.url().split("/").pop() as string;
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${name} v1`);
  await expect(field(page, "Content")).toHaveValue(/^# Deploy checklist/);
  await expect(page.getByRole("list", { name: "Versions" }).getByRole("listitem")).toHaveCount(1);

  const { status, body } = await getSkill(request, id);
  expect(status).toBe(200);
  expect(body).toMatchObject({
    id,
    name,
    description: "Use before every production deploy.",
    content: "# Deploy checklist\n\n- Run the **tests**\n- Tag the release\n\nSee `CHANGELOG.md`.",
    version: 1,
  });
  const versions = await apiCall(request, "GET", `${SKILLS}/${id}/versions`);
  expect(versions.body.data).toHaveLength(1);

  // And it is listed in the library.
  await page.getByRole("link", { name: "Skills", exact: true }).first().click();
  await expect(page).toHaveURL(/\/skills$/);
  await page.getByRole("searchbox", { name: "Search skills" }).fill(name);
  await expect(tableLinks(page)).toHaveText([name]);
  const row = page.getByRole("row").filter({ has: page.getByRole("link", { name }) });
  await expect(row.getByRole("cell")).toHaveText([
    name,
    "Use before every production deploy.",
    "v1",
    /.+/,
    "",
  ]);
});

test("[SKILLS] edit twice, compare v1 in History, restore it and save as v4", async ({ page, request }) => {
  const v1 = "# Runbook\n\nCheck the logs.\nRestart the worker.\nTell the team.\n";
  const v2 = "# Runbook\n\nCheck the logs.\nRestart the worker twice.\nTell the team.\n";
  const v3 = `${v2}Write a postmortem.\n`;
  const skill = await createSkill(request, { name: unique("runbook"), content: v1 });

  await page.goto(`/skills/${skill.id}`);
  const heading = page.getByRole("heading", { level: 1 });
  await expect(heading).toHaveText(`${skill.name} v1`);
  const content = field(page, "Content");
  await expect(content).toHaveValue(v1);
  const save = page.getByRole("button", { name: "Save", exact: true });
  await expect(save).toBeDisabled();

  await content.fill(v2);
  await expect(page.getByText("Unsaved changes")).toBeVisible();
  await save.click();
  await expect(page.getByText("Saved as v2.")).toBeVisible();
  await expect(heading).toHaveText(`${skill.name} v2`);
  await expect(save).toBeDisabled();

  await content.fill(v3);
  await save.click();
  await expect(page.getByText("Saved as v3.")).toBeVisible();
  await expect(heading).toHaveText(`${skill.name} v3`);

  const history = page.getByRole("region", { name: "History" });
  const versions = history.getByRole("list", { name: "Versions" }).getByRole("listitem");
  await expect(versions).toHaveCount(3);
  await expect(versions.first()).toContainText("v3");
  await expect(versions.first()).toContainText("current");
  await expect(history.getByText("Pick an older version to see what changed since.")).toBeVisible();

  const pickV1 = history.getByRole("button", { name: /^Compare v1\b/ });
  await pickV1.click();
  await expect(pickV1).toHaveAttribute("aria-pressed", "true");
  await expect(history.getByRole("heading", { name: "v1 → v3 (current)" })).toBeVisible();
  await expect(history.getByText("+2 −1 lines", { exact: true })).toBeVisible();
  await expect(history.getByText("2 lines added, 1 removed")).toBeAttached();
  const diff = history.getByRole("region", { name: "Changes from v1 to v3" });
  await expect(diff).toContainText("removed: Restart the worker.");
  await expect(diff).toContainText("added: Restart the worker twice.");
  await expect(diff).toContainText("added: Write a postmortem.");
  // Unchanged lines are there as context, without a marker.
  await expect(diff.getByText("Check the logs.", { exact: true })).toBeVisible();
  await expect(diff).not.toContainText("removed: Tell the team.");
  await expect(diff).not.toContainText("added: Tell the team.");

  await history.getByRole("button", { name: "Restore this version" }).click();
  await expect(content).toHaveValue(v1);
  await expect(page.getByText("v1's content is in the editor. Save to keep it.")).toBeVisible();
  // Restoring only fills the editor: nothing is saved yet.
  expect((await getSkill(request, skill.id)).body).toMatchObject({ version: 3, content: v3 });

  await save.click();
  await expect(page.getByText("Saved as v4.")).toBeVisible();
  await expect(heading).toHaveText(`${skill.name} v4`);
  await expect(versions).toHaveCount(4);
  // The open comparison follows the new current version, which now equals v1.
  await expect(history.getByRole("heading", { name: "v1 → v4 (current)" })).toBeVisible();
  await expect(history.getByText("The content is the same.")).toBeVisible();

  expect((await getSkill(request, skill.id)).body).toMatchObject({
    version: 4,
    content: v1,
    name: skill.name,
  });
  const listed = (await apiCall(request, "GET", `${SKILLS}/${skill.id}/versions`)).body.data;
  expect(listed.map((v: { version: number; content: string }) => [v.version, v.content])).toEqual([
    [4, v1],
    [3, v3],
    [2, v2],
    [1, v1],
  ]);
});

test("[SKILLS] validation: client-side errors and a server-side 400 land on their fields", async ({
  page,
  request,
}) => {
  const posts: string[] = [];
  page.on("request", (req) => {
    if (req.method() === "POST" && new URL(req.url()).pathname === SKILLS) posts.push(req.url());
  });
  await page.goto("/skills/new");
  const name = field(page, "Name");
  const description = field(page, "Description");
  const content = field(page, "Content");

  await page.getByRole("button", { name: "Create skill" }).click();
  await expect(name).toHaveAttribute("aria-invalid", "true");
  await expect(name).toHaveAccessibleDescription("name is required");
  await expect(content).toHaveAttribute("aria-invalid", "true");
  await expect(content).toHaveAccessibleDescription("content is required");
  await expect(description).not.toHaveAttribute("aria-invalid", "true");
  await expect(description).toHaveAccessibleDescription("Optional. One line on when an agent should use it.");

  // Whitespace is not content, and fixing a field clears its own error only.
  await name.fill(unique("validation"));
  await content.fill("   \n  ");
  await expect(name).not.toHaveAttribute("aria-invalid", "true");
  await expect(name).toHaveAccessibleDescription("Shown in the library and when attaching.");
  await expect(content).toHaveAccessibleDescription("content is required");
  await page.getByRole("button", { name: "Create skill" }).click();
  await expect(content).toHaveAccessibleDescription("content is required");
  await expect(page).toHaveURL(/\/skills\/new$/);
  expect(posts).toEqual([]);

  // The server's own rule: let it see a skill marker the form would have refused.
  const skillName = unique("marker");
  await name.fill(skillName);
  await content.fill("Fine content.");
  await expect(content).not.toHaveAttribute("aria-invalid", "true");
  await page.route(isSkillsCollection, async (route) => {
    if (route.request().method() !== "POST") return route.fallback();
    const body = JSON.parse(route.request().postData() ?? "{}");
    await route.fallback({
      postData: JSON.stringify({ ...body, content: "Intro.\n<!-- skill:skl_x -->\nMore." }),
    });
  });
  const response = page.waitForResponse(
    (res) => res.request().method() === "POST" && new URL(res.url()).pathname === SKILLS,
  );
  await page.getByRole("button", { name: "Create skill" }).click();
  expect((await response).status()).toBe(400);
  await expect(content).toHaveAttribute("aria-invalid", "true");
  await expect(content).toHaveAccessibleDescription(/content must not contain <!-- skill --> markers/);
  await expect(content).toBeFocused();
  await expect(name).not.toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL(/\/skills\/new$/);
  await expect(page.getByRole("button", { name: "Create skill" })).toBeEnabled();
  expect(await searchSkills(request, skillName)).toEqual([]);

  // On a skill's page: clearing both fields is refused before any PATCH.
  await page.unroute(isSkillsCollection);
  leaveDirtyFormsWithoutAsking(page);
  const skill = await createSkill(request, { name: unique("validation-edit"), content: "Keep me." });
  let patches = 0;
  page.on("request", (req) => {
    if (req.method() === "PATCH") patches++;
  });
  await page.goto(`/skills/${skill.id}`);
  await expect(name).toHaveValue(skill.name);
  await name.fill("");
  await content.fill("");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(name).toHaveAccessibleDescription("name is required");
  await expect(content).toHaveAccessibleDescription("content is required");
  expect(patches).toBe(0);
  expect((await getSkill(request, skill.id)).body).toMatchObject({
    name: skill.name,
    content: "Keep me.",
    version: 1,
  });
});

test("[SKILLS] drop two SKILL.md files on the library, then upload through the button", async ({
  page,
  request,
}) => {
  const tag = unique("upload");
  await page.goto("/skills");
  // The whole library page is the drop zone; drop on its heading like a person would on the page.
  const target = page.getByRole("heading", { name: "Skills", level: 1 });
  await expect(target).toBeVisible();

  const files = [
    {
      name: "SKILL.md",
      text: `---\nname: ${tag}-deploy\ndescription: "Use when shipping: checks first"\n---\n\n# Deploy\n\nRun the checks.\n`,
    },
    { name: "SKILL.md", text: `# ${tag}-triage\n` },
  ];
  const dataTransfer = await page.evaluateHandle((list) => {
    const data = new DataTransfer();
    for (const f of list) data.items.add(new File([f.text], f.name, { type: "text/markdown" }));
    return data;
  }, files);
  await target.dispatchEvent("dragenter", { dataTransfer });
  await target.dispatchEvent("dragover", { dataTransfer });
  const overlay = page.getByText("Drop SKILL.md files to add them to the library");
  await expect(overlay).toBeVisible();
  await target.dispatchEvent("drop", { dataTransfer });
  await expect(overlay).toBeHidden();

  const uploads = page.getByRole("region", { name: "Uploads" });
  const results = uploads.getByRole("listitem");
  await expect(results).toHaveCount(2);
  await expect(results.nth(0)).toHaveText(`SKILL.mdCreated ${tag}-deploy`);
  await expect(results.nth(1)).toHaveText(`SKILL.mdCreated ${tag}-triage`);
  await expect(uploads.getByRole("button", { name: "Clear" })).toBeEnabled();

  const created = await searchSkills(request, tag);
  const byName = Object.fromEntries(created.map((s) => [s.name, s]));
  expect(Object.keys(byName).sort()).toEqual([`${tag}-deploy`, `${tag}-triage`]);
  expect(byName[`${tag}-deploy`]).toMatchObject({
    description: "Use when shipping: checks first",
    content: "# Deploy\n\nRun the checks.",
    version: 1,
  });
  expect(byName[`${tag}-triage`]).toMatchObject({
    description: null,
    content: `# ${tag}-triage`,
    version: 1,
  });
  // Each result links to its skill.
  await expect(results.nth(0).getByRole("link", { name: `${tag}-deploy` })).toHaveAttribute(
    "href",
    `/skills/${byName[`${tag}-deploy`]!.id}`,
  );
  // The table picked them up too.
  await page.getByRole("searchbox", { name: "Search skills" }).fill(tag);
  await expect(tableLinks(page)).toHaveText([`${tag}-triage`, `${tag}-deploy`]);

  await uploads.getByRole("button", { name: "Clear" }).click();
  await expect(uploads).toBeHidden();

  // The keyboard route: the button opens the file picker.
  const chooser = page.waitForEvent("filechooser");
  await page.getByRole("button", { name: "Upload SKILL.md" }).first().click();
  const picker = await chooser;
  expect(picker.isMultiple()).toBe(true);
  await picker.setFiles([
    { name: `${tag}-picked.md`, mimeType: "text/markdown", buffer: Buffer.from("Picked body.\r\n") },
    { name: "SKILL.md", mimeType: "text/markdown", buffer: Buffer.from("no heading, no frontmatter\n") },
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("# Not markdown\n") },
  ]);
  await expect(uploads.getByRole("listitem")).toHaveText([
    `${tag}-picked.mdCreated ${tag}-picked`,
    "SKILL.mdNo name: add `name:` frontmatter or a # heading.",
    "notes.txtNot a Markdown (.md) file.",
  ]);
  const picked = await searchSkills(request, `${tag}-picked`);
  expect(picked).toHaveLength(1);
  expect(picked[0]).toMatchObject({ name: `${tag}-picked`, description: null, content: "Picked body." });
  expect(await searchSkills(request, tag)).toHaveLength(3);
});

test("[SKILLS] delete asks first, from the library table and from the skill page", async ({
  page,
  request,
}) => {
  const tag = unique("delete");
  const fromTable = await createSkill(request, { name: `${tag}-table`, content: "Table." });
  const fromPage = await createSkill(request, { name: `${tag}-page`, content: "Page." });
  // Outlives the test, so the library never goes empty (that page has no table or search box).
  const keeper = await createSkill(request, { name: `${tag}-keep`, content: "Keep." });

  await page.goto("/skills");
  await page.getByRole("searchbox", { name: "Search skills" }).fill(tag);
  await expect(tableLinks(page)).toHaveText([keeper.name, fromPage.name, fromTable.name]);

  // Cancel keeps it.
  await page.getByRole("button", { name: `Delete ${fromTable.name}` }).click();
  const dialog = page.getByRole("dialog", { name: "Delete skill?" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(`${fromTable.name} and its history will be deleted.`);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  expect((await getSkill(request, fromTable.id)).status).toBe(200);

  // Escape also cancels.
  await page.getByRole("button", { name: `Delete ${fromTable.name}` }).click();
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  expect((await getSkill(request, fromTable.id)).status).toBe(200);

  await page.getByRole("button", { name: `Delete ${fromTable.name}` }).click();
  await dialog.getByRole("button", { name: "Delete skill" }).click();
  await expect(dialog).toBeHidden();
  await expect(tableLinks(page)).toHaveText([keeper.name, fromPage.name]);
  expect((await getSkill(request, fromTable.id)).status).toBe(404);
  expect((await getSkill(request, fromPage.id)).status).toBe(200);

  // From the skill's own page, which then returns to the library.
  await tableLinks(page).filter({ hasText: fromPage.name }).click();
  await expect(page).toHaveURL(new RegExp(`/skills/${fromPage.id}$`));
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(dialog).toContainText(`${fromPage.name} and its history will be deleted.`);
  await dialog.getByRole("button", { name: "Delete skill" }).click();
  await expect(page).toHaveURL(/\/skills$/);
  await expect(page.getByRole("heading", { name: "Skills", level: 1 })).toBeVisible();
  expect((await getSkill(request, fromPage.id)).status).toBe(404);
  await page.getByRole("searchbox", { name: "Search skills" }).fill(tag);
  await expect(tableLinks(page)).toHaveText([keeper.name]);
  expect((await searchSkills(request, tag)).map((s) => s.id)).toEqual([keeper.id]);

  // A deleted skill's page says so.
  await page.goto(`/skills/${fromPage.id}`);
  await expect(page.getByRole("heading", { name: "This skill does not exist" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Back to skills" })).toBeVisible();
});

test("[SKILLS] search filters the table by name or id; no match and empty library states", async ({
  page,
  request,
}) => {
  const tag = unique("search");
  const alpha = await createSkill(request, { name: `${tag}-alpha`, description: "First.", content: "A." });
  const beta = await createSkill(request, { name: `${tag}-beta`, content: "B." });
  const alphabet = await createSkill(request, { name: `${tag}-alphabet`, content: "C." });

  await page.goto("/skills");
  const search = page.getByRole("searchbox", { name: "Search skills" });
  await expect(tableLinks(page).first()).toBeVisible();

  // "/" jumps to the search box.
  await page.getByRole("heading", { name: "Skills", level: 1 }).click();
  await page.keyboard.press("/");
  await expect(search).toBeFocused();

  await page.keyboard.type(`${tag}-alpha`);
  await expect(tableLinks(page)).toHaveText([alphabet.name, alpha.name]);
  await expect(page.getByRole("navigation", { name: "Pagination" })).toContainText("1–2 of 2");

  await search.fill(tag.toUpperCase());
  await expect(tableLinks(page)).toHaveText([alphabet.name, beta.name, alpha.name]);

  await search.fill(beta.id);
  await expect(tableLinks(page)).toHaveText([beta.name]);

  await search.fill(`${tag}-nothing`);
  await expect(page.getByRole("heading", { name: `No skills match “${tag}-nothing”` })).toBeVisible();
  await expect(page.getByText("Search looks at skill names and ids.")).toBeVisible();
  await expect(page.getByRole("table", { name: "Skills" })).toBeHidden();
  await page.getByRole("button", { name: "Clear search" }).click();
  await expect(search).toHaveValue("");
  await expect(tableLinks(page).filter({ hasText: tag })).toHaveCount(3);

  await search.fill(`${tag}-beta`);
  await expect(tableLinks(page)).toHaveText([beta.name]);
  await search.press("Escape");
  await expect(search).toHaveValue("");
  await expect(tableLinks(page).filter({ hasText: tag })).toHaveCount(3);

  // An empty library (the shared database never is one, so the list answer is faked).
  await page.route(isSkillsCollection, (route) =>
    route.request().method() === "GET"
      ? route.fulfill({ json: { data: [], total: 0, limit: 50, offset: 0 } })
      : route.continue(),
  );
  await page.goto("/skills");
  await expect(page.getByRole("heading", { name: "No skills yet" })).toBeVisible();
  await expect(page.getByRole("searchbox", { name: "Search skills" })).toBeHidden();
  await expect(page.getByRole("link", { name: "New skill" })).toHaveCount(2);
  await expect(page.getByRole("button", { name: "Upload SKILL.md" })).toHaveCount(2);
  await expect(page.getByText("Drop .md files here")).toBeVisible();
});

test("[SKILLS] screenshots: library, new skill, history diff", async ({ page, request }) => {
  const tag = unique("shot");
  await createSkill(request, {
    name: `${tag}-code-review`,
    description: "Use when reviewing a pull request: correctness first, then tests, then style and naming.",
    content: "# Code review\n\nRead the diff twice.",
  });
  await createSkill(request, { name: `${tag}-commit-style`, content: "Small commits." });
  const history = await createSkill(request, {
    name: `${tag}-incident-runbook-with-a-rather-long-name-for-the-header`,
    description: "Steps for a production incident.",
    content:
      "# Incident\n\n1. Page the on-call.\n2. Open a channel.\n3. Check the dashboards.\n4. Roll back.\n5. Write it up.\n",
  });
  let patched = await apiCall(request, "PATCH", `${SKILLS}/${history.id}`, {
    content:
      "# Incident\n\n1. Page the on-call.\n2. Open a channel.\n3. Check the dashboards and the logs.\n4. Roll back.\n5. Write it up.\n",
  });
  expect(patched.body.version).toBe(2);
  patched = await apiCall(request, "PATCH", `${SKILLS}/${history.id}`, {
    content:
      "# Incident\n\n1. Page the on-call.\n2. Open a channel.\n3. Check the dashboards and the logs.\n4. Roll back if the last deploy is the cause.\n5. Write it up within two days.\n\n## Contacts\n\n- On-call: #ops\n",
  });
  expect(patched.body.version).toBe(3);

  await page.goto("/skills");
  await page.getByRole("searchbox", { name: "Search skills" }).fill(tag);
  await expect(tableLinks(page)).toHaveCount(3);
  await expect(page.getByRole("table", { name: "Skills" })).toHaveAttribute("aria-busy", "false");
  await screenshotBothThemes(page, "skills-list");

  await page.goto("/skills/new");
  await field(page, "Name").fill(`${tag}-new`);
  await field(page, "Description").fill("Use when writing release notes.");
  await field(page, "Content").fill("# Release notes\n\n- One line per change\n- Link the pull request\n");
  await page.getByRole("button", { name: "Create skill" }).focus();
  await screenshotBothThemes(page, "skill-new");
  leaveDirtyFormsWithoutAsking(page);

  await page.goto(`/skills/${history.id}`);
  const panel = page.getByRole("region", { name: "History" });
  await panel.getByRole("button", { name: /^Compare v1\b/ }).click();
  await expect(panel.getByRole("region", { name: "Changes from v1 to v3" })).toBeVisible();
  await expect(panel.getByText("+7 −3 lines", { exact: true })).toBeVisible();
  await screenshotBothThemes(page, "skill-history");
});
