/*
 * First-load JavaScript of a page, as a browser downloads it: every script the page loads, gzipped
 * (level 9, what a typical reverse proxy serves), summed. Prints JSON. Needs a build and Chromium.
 *   npm run bench:first-load-js [-- /agents/new ...]
 */
import { gzipSync } from "node:zlib";

import { chromium } from "@playwright/test";

import { startServer } from "../e2e/support/server";

const pages = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ["/agents/new", "/agents", "/skills", "/login"];
const LIMIT_KB = 250;

const server = await startServer({});
const browser = await chromium.launch({
  executablePath: process.env.HANGAR_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
try {
  const context = await browser.newContext({ baseURL: server.url });
  const login = await context.request.post("/api/v1/auth/login", {
    data: { master_key: server.masterKey },
    headers: { origin: server.url },
  });
  if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
  const results: Record<string, { scripts: number; raw_kb: number; gzip_kb: number }> = {};
  for (const path of pages) {
    const page = await context.newPage();
    const bodies: Promise<Buffer>[] = [];
    page.on("response", (res) => {
      if (res.request().resourceType() === "script") bodies.push(res.body());
    });
    await page.goto(path, { waitUntil: "networkidle" });
    const all = await Promise.all(bodies);
    const raw = all.reduce((sum, b) => sum + b.length, 0);
    const gz = all.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).length, 0);
    results[path] = {
      scripts: all.length,
      raw_kb: Math.round(raw / 102.4) / 10,
      gzip_kb: Math.round(gz / 102.4) / 10,
    };
    await page.close();
  }
  const newAgent = results["/agents/new"];
  console.log(
    JSON.stringify({
      bench: "first-load-js",
      pages: results,
      target: { page: "/agents/new", gzip_kb_max: LIMIT_KB },
      met: newAgent ? newAgent.gzip_kb <= LIMIT_KB : null,
    }),
  );
} finally {
  await browser.close();
  await server.stop();
}
