/*
 * Revocation across web replicas: two Hangar processes on one PostgreSQL database. A key's stream
 * is open on one replica, the key is revoked on the other, and the stream still ends within a
 * second (PostgreSQL NOTIFY). Embedded PGlite has one process, so this runs on PostgreSQL only.
 */
import { describe, expect, inject, it } from "vitest";

import { callServer } from "../support/api";
import { createTestDatabase, startServer } from "../support/server";

const SESSIONS = "/api/v1/managed_agents/sessions";

describe.runIf(inject("dbChoice") === "postgres")("revocation across replicas", () => {
  it("a key revoked on one replica closes its stream on another within 1 s", async () => {
    const database = await createTestDatabase();
    const first = await startServer({ databaseUrl: database.url });
    const second = await startServer({ databaseUrl: database.url, masterKey: first.masterKey });
    try {
      const agent = await callServer(first, "POST", "/api/v1/managed_agents/agents", {
        model: "m/x",
        harness_id: "claude-agent-sdk",
      });
      const session = await callServer(
        first,
        "POST",
        `/api/v1/managed_agents/agents/${agent.body.id}/session`,
        {},
      );
      expect(session.status, session.text).toBe(201);
      const key = await callServer(first, "POST", "/api/v1/api_keys", { name: "replicated", role: "viewer" });
      const res = await fetch(`${second.url}${SESSIONS}/${session.body.id}/stream?follow=1`, {
        headers: { authorization: `Bearer ${key.body.key}` },
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read(); // the stream is live on the second replica
      let endedAt = 0;
      const drained = (async () => {
        for (;;) {
          const { done } = await reader.read();
          if (done) return (endedAt = Date.now());
        }
      })();
      const revokedAt = Date.now();
      expect((await callServer(first, "DELETE", `/api/v1/api_keys/${key.body.id}`)).status).toBe(200);
      await Promise.race([drained, new Promise((r) => setTimeout(r, 3000))]);
      expect(endedAt, "the second replica's stream did not end").toBeGreaterThan(0);
      expect(endedAt - revokedAt).toBeLessThan(1000);
      const refused = await fetch(`${second.url}/api/v1/managed_agents/agents`, {
        headers: { authorization: `Bearer ${key.body.key}` },
      });
      expect(refused.status).toBe(401);
      await callServer(first, "DELETE", `${SESSIONS}/${session.body.id}`);
    } finally {
      await second.stop();
      await first.stop();
      await database.drop();
    }
  }, 120_000);
});
