import { describe, expect, inject, it } from "vitest";

import { api, callServer, createAgent } from "../support/api";
import { createTestDatabase, startServer, tempDir, waitForExit } from "../support/server";
import { openSse } from "../support/sse";

/*
 * The event log's delivery rules, at the API: every stream gets every event once and in order across
 * any number of reconnects (Last-Event-ID), however the replay is served (this process's copy of the
 * latest events, or the database); an event reaches a client only once it is committed; and what a
 * client was sent survives a crash of the server.
 */

const SESSIONS = "/api/v1/managed_agents/sessions";
type Event = { seq: number; type: string; data: Record<string, unknown>; at: string };
type Server = { url: string; masterKey: string };

async function readySession(server?: Server): Promise<string> {
  const call = (method: string, path: string, body?: unknown) =>
    server ? callServer(server, method, path, body) : api(method, path, { body });
  const agent = server
    ? (await call("POST", "/api/v1/managed_agents/agents", { model: "m/x", harness_id: "claude-agent-sdk" }))
        .body
    : await createAgent({ harness_id: "claude-agent-sdk" });
  const created = await call("POST", `/api/v1/managed_agents/agents/${agent.id}/session`, {});
  expect(created.status).toBe(201);
  for (let i = 0; ; i++) {
    const res = await call("GET", `${SESSIONS}/${created.body.id}`);
    if (res.body.status === "ready") return created.body.id as string;
    if (res.body.status === "failed" || i > 900) throw new Error(JSON.stringify(res.body));
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function fullLog(id: string, server?: Server): Promise<Event[]> {
  const path = `${SESSIONS}/${id}/log?limit=1000`;
  return (server ? await callServer(server, "GET", path) : await api("GET", path)).body.data;
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");

describe("session event streams", () => {
  it("clients that keep reconnecting during a burst of turns get every event once, in order, as logged", async () => {
    const id = await readySession();
    const start = (await fullLog(id)).at(-1)!.seq;
    const TURNS = 6;
    let sending = true;
    // Turns back to back: deltas, tool calls and turn ends keep arriving while clients come and go.
    const turns = (async () => {
      for (let i = 0; i < TURNS; i++) {
        const text = i % 2 ? `SLOW: 5\nREPLY: ${words(24)}` : `RUN: echo turn${i}`;
        expect((await api("POST", `${SESSIONS}/${id}/message`, { body: { text } })).status).toBe(200);
      }
      sending = false;
    })();
    const client = async (c: number) => {
      const got: Event[] = [];
      let last = c === 0 ? 0 : start; // one client starts from the beginning of the log
      for (let round = 0; ; round++) {
        const caughtUp = last >= (await fullLog(id)).at(-1)!.seq;
        if (!sending && caughtUp) return got;
        const stream = await openSse(`${SESSIONS}/${id}/events`, { lastEventId: last });
        expect(stream.status).toBe(200);
        // Nothing more may come once the turns are over: a quiet stream is given up after a while.
        const quiet = setTimeout(() => stream.close(), 1_000);
        const take = 1 + ((round + c) % 4);
        let taken = 0;
        for await (const frame of stream.frames) {
          const event = JSON.parse(frame.data) as Event;
          expect(frame.id).toBe(event.seq);
          got.push(event);
          last = event.seq;
          quiet.refresh();
          if (++taken >= take) break;
        }
        clearTimeout(quiet);
        stream.close();
        // Away for a moment now and then: events pile up for the replay.
        if (round % 3 === 2) await new Promise((r) => setTimeout(r, 30));
      }
    };
    const clients = await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    await turns;
    const logged = await fullLog(id);
    expect(logged.filter((e) => e.type === "turn_complete").length).toBeGreaterThanOrEqual(TURNS);
    for (const [c, got] of clients.entries()) {
      const expected = logged.filter((e) => e.seq > (c === 0 ? 0 : start));
      expect(got.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
      // Live, replayed from memory or from the database: the same event as the log has.
      expect(got).toEqual(expected);
    }
    await api("DELETE", `${SESSIONS}/${id}`);
  }, 180_000);

  it("a client receives an event only once it is committed: the log has every frame as it arrives", async () => {
    const id = await readySession();
    const after = (await fullLog(id)).at(-1)!.seq;
    const stream = await openSse(`${SESSIONS}/${id}/events`, { lastEventId: after });
    const sent = api("POST", `${SESSIONS}/${id}/message`, { body: { text: `SLOW: 5\nREPLY: ${words(16)}` } });
    let frames = 0;
    for await (const frame of stream.frames) {
      // The log read goes to the database, never to the stream's source.
      const [logged] = (await api("GET", `${SESSIONS}/${id}/log?after=${frame.id! - 1}&limit=1`)).body.data;
      expect(logged).toEqual(JSON.parse(frame.data));
      frames++;
      if (frame.event === "turn_complete") break;
    }
    stream.close();
    expect(frames).toBeGreaterThan(3);
    expect((await sent).status).toBe(200);
    await api("DELETE", `${SESSIONS}/${id}`);
  }, 120_000);

  it("after kill -9 mid-burst, every event a client was sent and every acknowledged turn is in the log", async () => {
    const database = inject("dbChoice") === "postgres" ? await createTestDatabase() : null;
    const databaseUrl = database?.url;
    const first = await startServer({ dataDir: tempDir("crash-stream"), databaseUrl });
    let second: Awaited<ReturnType<typeof startServer>> | null = null;
    try {
      const id = await readySession(first);
      const acknowledged = await callServer(first, "POST", `${SESSIONS}/${id}/message`, {
        text: "REPLY: kept",
      });
      expect(acknowledged.status).toBe(200);
      const stream = await openSse(`${SESSIONS}/${id}/events`, { server: first, lastEventId: 0 });
      void callServer(first, "POST", `${SESSIONS}/${id}/message`, {
        text: `SLOW: 20\nREPLY: ${words(200)}`,
      }).catch(() => undefined);
      const received: Event[] = [];
      let deltas = 0;
      try {
        for await (const frame of stream.frames) {
          received.push(JSON.parse(frame.data));
          if (frame.event === "assistant_delta" && ++deltas === 2) first.proc.kill("SIGKILL");
        }
      } catch {
        // the connection died with the server
      }
      await waitForExit(first.proc);
      expect(deltas).toBeGreaterThanOrEqual(2);
      second = await startServer({ dataDir: first.dataDir, databaseUrl, masterKey: first.masterKey });
      const logged = await fullLog(id, second);
      const bySeq = new Map(logged.map((e) => [e.seq, e]));
      for (const event of received) expect(bySeq.get(event.seq)).toEqual(event);
      const reply = logged.find((e) => e.type === "turn_complete");
      expect(reply?.data.message_id).toBe(acknowledged.body.info.id);
      await callServer(second, "DELETE", `${SESSIONS}/${id}`);
    } finally {
      if (first.proc.exitCode === null && first.proc.signalCode === null) await first.stop();
      await second?.stop();
      await database?.drop();
    }
  }, 180_000);
});
