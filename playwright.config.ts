import { defineConfig } from "@playwright/test";

// Debian's Chromium; browser downloads are impossible here. The flags keep it off the network.
const CHROMIUM = process.env.HANGAR_CHROMIUM ?? "/usr/bin/chromium";
// Each run keeps its artifacts and saved login in its own folder, so runs never clobber each other.
const RUN_DIR = process.env.HANGAR_PW_DIR ?? "test-results";
process.env.HANGAR_PW_STATE = `${RUN_DIR}/.auth/browser.json`;

export default defineConfig({
  testDir: "e2e/ui",
  outputDir: `${RUN_DIR}/playwright`,
  globalSetup: "./e2e/ui/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json", { outputFile: `${RUN_DIR}/playwright-report.json` }]],
  use: {
    baseURL: process.env.HANGAR_UI_BASE_URL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    viewport: { width: 1360, height: 900 },
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "setup", testMatch: /auth\.setup\.ts/ },
    {
      name: "ui",
      testMatch: /.*\.spec\.ts/,
      dependencies: ["setup"],
      use: { storageState: process.env.HANGAR_PW_STATE },
    },
  ],
});
