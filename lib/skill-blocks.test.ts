import { describe, expect, it } from "vitest";

import {
  appendSkillBlock,
  basePrompt,
  parseSkillIds,
  skillSnapshots,
  stripSkillBlocks,
  withBasePrompt,
} from "./skill-blocks";

describe("skill blocks", () => {
  it("appends after a blank line, trims, and is idempotent", () => {
    const once = appendSkillBlock("Base.  \n\n\n", "skl_a", "\n  A body \n");
    expect(once).toBe("Base.\n\n<!-- skill:skl_a -->\nA body");
    expect(appendSkillBlock(once, "skl_a", "other")).toBe(once);
    expect(appendSkillBlock(null, "skl_a", "A")).toBe("<!-- skill:skl_a -->\nA");
  });

  it("parses ids in order without repeats, ignoring markers that are not whole lines", () => {
    const p = "x <!-- skill:skl_fake --> y\n<!-- skill:skl_a -->\nA\n\n<!-- skill:skl_b -->\nB";
    expect(parseSkillIds(p)).toEqual(["skl_a", "skl_b"]);
    expect(parseSkillIds(null)).toEqual([]);
  });

  it("strips one block or all, leaving the person's text untouched", () => {
    const p = "Line one.\n\n\nLine two.\n\n<!-- skill:skl_a -->\nA\n\n<!-- skill:skl_b -->\nB\n\nmore B";
    expect(stripSkillBlocks(p, "skl_a")).toBe(
      "Line one.\n\n\nLine two.\n\n<!-- skill:skl_b -->\nB\n\nmore B",
    );
    expect(stripSkillBlocks(p, "skl_b")).toBe("Line one.\n\n\nLine two.\n\n<!-- skill:skl_a -->\nA");
    expect(stripSkillBlocks(p)).toBe("Line one.\n\n\nLine two.");
    expect(basePrompt("<!-- skill:skl_a -->\nA")).toBe("");
    expect(stripSkillBlocks(p, "skl_missing")).toBe(p);
  });

  it("swaps the base text and keeps the blocks verbatim", () => {
    const p = "Old base.\n\n<!-- skill:skl_a -->\nA\n\n<!-- skill:skl_b -->\nB";
    expect(withBasePrompt(p, "New base.\n")).toBe(
      "New base.\n\n<!-- skill:skl_a -->\nA\n\n<!-- skill:skl_b -->\nB",
    );
    expect(withBasePrompt(p, "")).toBe("<!-- skill:skl_a -->\nA\n\n<!-- skill:skl_b -->\nB");
    expect(withBasePrompt("No blocks", "New")).toBe("New");
    expect(skillSnapshots(p)).toEqual({ skl_a: "A", skl_b: "B" });
  });
});
