import { expect, test as setup } from "@playwright/test";

// Logs in through the login page once; the other tests reuse the cookie.
setup("log in", async ({ page }) => {
  await page.goto("/agents");
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel("Master key").fill(process.env.HANGAR_UI_MASTER_KEY as string);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();
  await page.context().storageState({ path: process.env.HANGAR_PW_STATE as string });
});
