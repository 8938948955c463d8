import { describe, expect, it } from "vitest";

import { skillSchema } from "@/lib/schemas/skill";

import { AGENTS, api, createAgent, createSkill, unique } from "../support/api";

const SKILLS = "/api/v1/skills";

describe("skills library", () => {
  it("create, get, list with search, delete", async () => {
    const name = unique("lib");
    const res = await api("POST", SKILLS, {
      body: { name, description: "Reviews code", content: "# Review\nLook closely." },
    });
    expect(res.status).toBe(201);
    const skill = skillSchema.strict().parse(res.body);
    expect(skill).toMatchObject({
      name,
      description: "Reviews code",
      content: "# Review\nLook closely.",
      version: 1,
    });
    expect(skill.id).toMatch(/^skl_/);
    expect((await api("GET", `${SKILLS}/${skill.id}`)).body).toEqual(skill);
    const list = await api("GET", `${SKILLS}?search=${name}`);
    expect(list.body).toMatchObject({ total: 1, limit: 50, offset: 0 });
    expect(list.body.data[0].id).toBe(skill.id);
    expect((await api("DELETE", `${SKILLS}/${skill.id}`)).status).toBe(204);
    expect((await api("GET", `${SKILLS}/${skill.id}`)).status).toBe(404);
    expect((await api("DELETE", `${SKILLS}/${skill.id}`)).status).toBe(404);
  });

  it.each([
    [{ content: "x" }, ["name"]],
    [{ name: "n" }, ["content"]],
    [{ name: "n", content: "   " }, ["content"]],
    [{ name: "n", content: "a\n<!-- skill:skl_x -->\nb" }, ["content"]],
    [{ name: "x".repeat(129), content: "c" }, ["name"]],
  ])("invalid %j → 400 on %j", async (body, path) => {
    const res = await api("POST", SKILLS, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(path);
  });

  it("every change is kept as a version; /versions lists them newest first", async () => {
    const skill = await createSkill({ content: "one" });
    await api("PATCH", `${SKILLS}/${skill.id}`, { body: { content: "two" } });
    const third = await api("PATCH", `${SKILLS}/${skill.id}`, {
      body: { content: "three", description: "d" },
    });
    expect(third.body).toMatchObject({ content: "three", description: "d", version: 3 });
    const same = await api("PATCH", `${SKILLS}/${skill.id}`, { body: { content: "three" } });
    expect(same.body.version).toBe(3);
    const versions = await api("GET", `${SKILLS}/${skill.id}/versions`);
    expect(versions.status).toBe(200);
    expect(
      versions.body.data.map((v: { version: number; content: string }) => [v.version, v.content]),
    ).toEqual([
      [3, "three"],
      [2, "two"],
      [1, "one"],
    ]);
    const cleared = await api("PATCH", `${SKILLS}/${skill.id}`, { body: { description: null } });
    expect(cleared.body.description).toBeNull();
    expect((await api("GET", `${SKILLS}/skl_none/versions`)).status).toBe(404);
  });

  it("expected_version guards skill edits", async () => {
    const skill = await createSkill();
    const stale = await api("PATCH", `${SKILLS}/${skill.id}`, {
      body: { content: "x", expected_version: 7 },
    });
    expect(stale.status).toBe(409);
  });
});

describe("skills on agents", () => {
  it("skill_ids on create append blocks in order, idempotently", async () => {
    const a = await createSkill({ content: "  Alpha rules.\n" });
    const b = await createSkill({ content: "Bravo rules." });
    const agent = await createAgent({ prompt: "Base prompt.\n\n", skill_ids: [a.id, b.id] });
    expect(agent.attached_skill_ids).toEqual([a.id, b.id]);
    expect(agent.prompt).toBe(
      `Base prompt.\n\n<!-- skill:${a.id} -->\nAlpha rules.\n\n<!-- skill:${b.id} -->\nBravo rules.`,
    );
    const again = await api("POST", `${AGENTS}/${agent.id}/skill`, { body: { skill_id: a.id } });
    expect(again.status).toBe(200);
    expect(again.body.agent.prompt).toBe(agent.prompt);
    expect(again.body.agent.version).toBe(agent.version);
  });

  it("an empty prompt starts with the block", async () => {
    const s = await createSkill({ content: "Only." });
    const agent = await createAgent({ skill_ids: [s.id] });
    expect(agent.prompt).toBe(`<!-- skill:${s.id} -->\nOnly.`);
  });

  it("attach by id, attach inline (saved to the library or not), detach one, detach all", async () => {
    const agent = await createAgent({ prompt: "Base." });
    const lib = await createSkill({ content: "Library." });
    const one = await api("POST", `${AGENTS}/${agent.id}/skill`, { body: { skill_id: lib.id } });
    expect(one.body.skill.id).toBe(lib.id);
    const inline = await api("POST", `${AGENTS}/${agent.id}/skill`, {
      body: { name: unique("inline"), content: "Inline." },
    });
    expect(inline.status).toBe(200);
    expect(inline.body.skill).toMatchObject({ content: "Inline.", version: 1 });
    expect((await api("GET", `/api/v1/skills/${inline.body.skill.id}`)).status).toBe(200);
    const unsaved = await api("POST", `${AGENTS}/${agent.id}/skill`, {
      body: { name: "temp", content: "Ephemeral.", save_to_library: false },
    });
    expect(unsaved.body.skill).toBeNull();
    const ids = unsaved.body.agent.attached_skill_ids;
    expect(ids).toHaveLength(3);
    expect((await api("GET", `/api/v1/skills/${ids[2]}`)).status).toBe(404);

    const detached = await api("DELETE", `${AGENTS}/${agent.id}/skill?skill_id=${inline.body.skill.id}`);
    expect(detached.status).toBe(200);
    expect(detached.body.agent.attached_skill_ids).toEqual([lib.id, ids[2]]);
    expect(detached.body.agent.prompt).toBe(
      `Base.\n\n<!-- skill:${lib.id} -->\nLibrary.\n\n<!-- skill:${ids[2]} -->\nEphemeral.`,
    );
    const notAttached = await api("DELETE", `${AGENTS}/${agent.id}/skill?skill_id=${inline.body.skill.id}`);
    expect(notAttached.status).toBe(404);
    const all = await api("DELETE", `${AGENTS}/${agent.id}/skill`);
    expect(all.body.agent).toMatchObject({ prompt: "Base.", attached_skill_ids: [] });
  });

  it("an attached skill is a snapshot: library edits reach the agent on re-attach", async () => {
    const s = await createSkill({ content: "Old rule." });
    const agent = await createAgent({ skill_ids: [s.id] });
    await api("PATCH", `/api/v1/skills/${s.id}`, { body: { content: "New rule." } });
    expect((await api("GET", `${AGENTS}/${agent.id}`)).body.prompt).toContain("Old rule.");
    await api("DELETE", `${AGENTS}/${agent.id}/skill?skill_id=${s.id}`);
    const re = await api("POST", `${AGENTS}/${agent.id}/skill`, { body: { skill_id: s.id } });
    expect(re.body.agent.prompt).toContain("New rule.");
    await api("DELETE", `/api/v1/skills/${s.id}`);
    expect((await api("GET", `${AGENTS}/${agent.id}`)).body.prompt).toContain("New rule.");
  });

  it("PATCH skill_ids sets exactly the attached set, keeping existing snapshots", async () => {
    const a = await createSkill({ content: "A." });
    const b = await createSkill({ content: "B." });
    const c = await createSkill({ content: "C." });
    const agent = await createAgent({ prompt: "P.", skill_ids: [a.id, b.id] });
    await api("PATCH", `/api/v1/skills/${a.id}`, { body: { content: "A2." } });
    const res = await api("PATCH", `${AGENTS}/${agent.id}`, { body: { skill_ids: [a.id, c.id] } });
    expect(res.body.attached_skill_ids).toEqual([a.id, c.id]);
    expect(res.body.prompt).toBe(`P.\n\n<!-- skill:${a.id} -->\nA.\n\n<!-- skill:${c.id} -->\nC.`);
  });

  it.each([
    [{}, 400],
    [{ skill_id: "skl_none" }, 404],
    [{ name: "x" }, 400],
  ])("attach %j → %i", async (body, status) => {
    const agent = await createAgent();
    const res = await api("POST", `${AGENTS}/${agent.id}/skill`, { body });
    expect(res.status).toBe(status);
  });

  it("attach to an unknown agent → 404", async () => {
    const res = await api("POST", `${AGENTS}/agt_none/skill`, { body: { name: "n", content: "c" } });
    expect(res.status).toBe(404);
  });
});
