import { expect, KEY, logInWithMasterKey, screenshotBothThemes, test } from "./fixtures";

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
  "/members",
  "/api-keys",
  "/audit",
];

test("[AUTH] every page sends a stranger to the login page", async ({ page }) => {
  for (const path of PAGES) {
    await page.goto(path);
    await expect(page, path).toHaveURL(/\/login/);
  }
});

test("[AUTH] a wrong key is refused on the field", async ({ page }) => {
  await page.goto("/login");
  // Email and password is the default way in.
  await expect(page.getByRole("tab", { name: "Email and password" })).toHaveAttribute(
    "aria-selected",
    "true",
  );
  await expect(page.getByLabel("Email", { exact: true })).toBeFocused();
  await screenshotBothThemes(page, "login");
  await page.getByLabel("Email", { exact: true }).fill("nobody@example.com");
  await page.getByLabel("Password", { exact: true }).fill("not-a-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("#password-error")).toHaveText("Wrong email or password");
  await screenshotBothThemes(page, "login-wrong-password");

  await logInWithMasterKey(page, "definitely-not-the-key");
  const field = page.getByRole("tabpanel").getByLabel("Master key");
  await expect(page.locator("#master_key-error")).toHaveText("That is not the master key");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await screenshotBothThemes(page, "login-master-key");
});

test("[AUTH] login keeps the key out of the browser; logout ends access", async ({ page, context }) => {
  await page.goto("/skills");
  await expect(page).toHaveURL(/\/login\?next=|\/login$/);
  await logInWithMasterKey(page);
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
