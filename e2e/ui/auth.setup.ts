import { expect, test as setup } from "@playwright/test";

import { logInWithMasterKey } from "./fixtures";

// Logs in through the login page once; the other tests reuse the cookie.
setup("log in", async ({ page }) => {
  await page.goto("/agents");
  await expect(page).toHaveURL(/\/login/);
  await logInWithMasterKey(page, process.env.HANGAR_UI_MASTER_KEY as string);
  await expect(page.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();
  await page.context().storageState({ path: process.env.HANGAR_PW_STATE as string });
});
