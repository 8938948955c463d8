import { expect, KEY, screenshotBothThemes, test } from "./fixtures";

// These start logged out, whatever the project's saved login.
test.use({ storageState: { cookies: [], origins: [] } });

// Every page of the app. The login check comes before any lookup, so made-up ids do for the pages
// of one agent, skill or session.
const PAGES = [
  "/agents",
  "/agents/new",
  "/agents/agt_doesnotexist",
  "/agents/agt_doesnotexist/edit",
  "/skills",
  "/skills/new",
  "/skills/skl_doesnotexist",
  "/sessions",
  "/sessions/sess_doesnotexist",
];

test("[AUTH] every page sends a stranger to the login page", async ({ page }) => {
  for (const path of PAGES) {
    await page.goto(path);
    await expect(page, path).toHaveURL(/\/login/);
  }
});

test("[AUTH] a wrong key is refused on the field", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Master key").fill("definitely-not-the-key");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("#master_key-error")).toHaveText("That is not the master key");
  await expect(page.getByLabel("Master key")).toHaveAttribute("aria-invalid", "true");
  await screenshotBothThemes(page, "login");
});

test("[AUTH] login keeps the key out of the browser; logout ends access", async ({ page, context }) => {
  await page.goto("/skills");
  await expect(page).toHaveURL(/\/login\?next=|\/login$/);
  await page.getByLabel("Master key").fill(KEY());
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();

  const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  expect(storage).not.toContain(KEY());
  const cookies = await context.cookies();
  expect(cookies.map((c) => c.name)).toEqual(["hangar_session"]);
  for (const cookie of cookies) {
    expect(cookie.value).not.toContain(KEY());
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
  }
  expect(await page.evaluate(() => document.cookie)).toBe("");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/agents");
  await expect(page).toHaveURL(/\/login/);
  // The old cookie value is dead on the server too, not only deleted from the jar.
  await context.addCookies(cookies);
  await page.goto("/agents");
  await expect(page).toHaveURL(/\/login/);
});
