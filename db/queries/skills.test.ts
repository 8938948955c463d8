import { expect, it } from "vitest";

import { ConflictError, NotFoundError } from "@/lib/errors";

import {
  createSkill,
  deleteSkill,
  getSkill,
  getSkillsByIds,
  listSkills,
  listSkillVersions,
  updateSkill,
} from "./skills";
import { describeOnEachDatabase } from "./test-support";
import { DEFAULT_WORKSPACE_ID } from "./workspaces";

const input = (name: string) => ({ name, description: null, content: `# ${name}` });

describeOnEachDatabase((inRollback) => {
  it("creates, reads, lists and searches skills", async () => {
    await inRollback(async (tx) => {
      const a = await createSkill(input("alpha"), DEFAULT_WORKSPACE_ID, tx);
      const b = await createSkill(input("beta_1"), DEFAULT_WORKSPACE_ID, tx);
      expect(await getSkill(a.id, tx)).toEqual(a);
      expect((await getSkillsByIds([b.id, a.id], DEFAULT_WORKSPACE_ID, tx)).map((s) => s.id)).toEqual([
        b.id,
        a.id,
      ]);
      await expect(getSkillsByIds([a.id, "sk_none"], DEFAULT_WORKSPACE_ID, tx)).rejects.toThrow(
        "skill not found: sk_none",
      );
      const page = await listSkills({ limit: 50, offset: 0, search: undefined }, DEFAULT_WORKSPACE_ID, tx);
      expect(page.total).toBe(2);
      // `_` is taken literally, not as LIKE's any-one-character.
      expect((await listSkills({ limit: 50, offset: 0, search: "t_" }, DEFAULT_WORKSPACE_ID, tx)).total).toBe(
        0,
      );
      const found = await listSkills({ limit: 50, offset: 0, search: "A_1" }, DEFAULT_WORKSPACE_ID, tx);
      expect(found.data.map((s) => s.id)).toEqual([b.id]);
    });
  });

  it("keeps every version and refuses a stale expected_version", async () => {
    await inRollback(async (tx) => {
      const skill = await createSkill(input("alpha"), DEFAULT_WORKSPACE_ID, tx);
      const same = await updateSkill(skill.id, { content: "# alpha" }, tx);
      expect(same.version).toBe(1);
      const next = await updateSkill(skill.id, { content: "# two", expected_version: 1 }, tx);
      expect(next.version).toBe(2);
      await expect(
        updateSkill(skill.id, { content: "# three", expected_version: 1 }, tx),
      ).rejects.toBeInstanceOf(ConflictError);
      const versions = await listSkillVersions(skill.id, tx);
      expect(versions.data.map((v) => [v.version, v.content])).toEqual([
        [2, "# two"],
        [1, "# alpha"],
      ]);
    });
  });

  it("deletes once; unknown ids are NotFoundError", async () => {
    await inRollback(async (tx) => {
      const skill = await createSkill(input("alpha"), DEFAULT_WORKSPACE_ID, tx);
      await deleteSkill(skill.id, tx);
      await expect(deleteSkill(skill.id, tx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(getSkill(skill.id, tx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(updateSkill(skill.id, { name: "x" }, tx)).rejects.toBeInstanceOf(NotFoundError);
      await expect(listSkillVersions(skill.id, tx)).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
