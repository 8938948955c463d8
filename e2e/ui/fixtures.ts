import fs from "node:fs";
import path from "node:path";

import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

export const KEY = () => process.env.HANGAR_UI_MASTER_KEY as string;
export const AGENTS = "/api/v1/managed_agents/agents";
export const SESSIONS = "/api/v1/managed_agents/sessions";

/** The REST API with the master key, for arranging data and for reading results back. */
export async function apiCall(request: APIRequestContext, method: string, url: string, data?: unknown) {
  const res = await request.fetch(url, {
    method,
    headers: { authorization: `Bearer ${KEY()}` },
    data: data === undefined ? undefined : data,
  });
  const text = await res.text();
  return { status: res.status(), body: text ? JSON.parse(text) : null };
}

/** An agent through the API (model openai/gpt-5 unless `body` says otherwise). */
export async function createAgent(request: APIRequestContext, body: Record<string, unknown>) {
  const res = await apiCall(request, "POST", AGENTS, { model: "openai/gpt-5", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string };
}

/** Stops a session if a failed assertion left it running (the process driver runs one at a time). */
export async function stopQuietly(request: APIRequestContext, id: string | undefined) {
  if (id) await apiCall(request, "DELETE", `${SESSIONS}/${id}`).catch(() => undefined);
}

/** Polls GET /sessions/{id} until the session reaches one of `statuses`; returns it. */
export async function waitForSession(
  request: APIRequestContext,
  id: string,
  statuses: string[],
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await apiCall(request, "GET", `${SESSIONS}/${id}`);
    if (statuses.includes(body?.status)) return body;
    if (Date.now() > deadline)
      throw new Error(`session ${id} did not reach ${statuses}: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function unique(label: string) {
  return `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

// Next to the run's other artifacts (HANGAR_PW_DIR), so parallel runs never overwrite each other's.
const SHOTS = path.join(process.env.HANGAR_PW_DIR ?? "test-results", "screenshots");

/** A full-page screenshot in light and in dark mode, kept for people to look at. */
export async function screenshotBothThemes(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.evaluate((dark) => document.documentElement.classList.toggle("dark", dark), scheme === "dark");
    await page.waitForTimeout(100);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.evaluate(() => document.documentElement.classList.remove("dark"));
}

/** The login page's "Master key" way in: its tab, then the key. */
export async function logInWithMasterKey(page: Page, key = KEY()) {
  await page.getByRole("tab", { name: "Master key" }).click();
  await page.getByRole("tabpanel").getByLabel("Master key").fill(key);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** An invite made with the master key: its one-time token and link. */
export async function inviteByApi(request: APIRequestContext, email: string, role: string) {
  const res = await apiCall(request, "POST", "/api/v1/invites", { email, role });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; token: string; url: string };
}

export const test = base;
export { expect };
