import { describe, expect, it } from "vitest";

import { parseSkillFile } from "./skill-file";

describe("parseSkillFile", () => {
  it("reads name and description from frontmatter and keeps the body verbatim", () => {
    const text = [
      "---",
      "name: pdf-tools",
      "description: Fill and merge PDF forms",
      "license: MIT",
      "---",
      "",
      "# PDF tools",
      "",
      "Use `pdftk`.  ",
      "",
      "- one",
      "",
    ].join("\n");
    expect(parseSkillFile(text, "SKILL.md")).toEqual({
      name: "pdf-tools",
      description: "Fill and merge PDF forms",
      content: "# PDF tools\n\nUse `pdftk`.  \n\n- one",
    });
  });

  it("unquotes double- and single-quoted values", () => {
    const text = `---\nname: "Review: \\"strict\\" mode"\ndescription: 'It''s for reviews' # why\n---\nBody`;
    expect(parseSkillFile(text, "x.md")).toEqual({
      name: 'Review: "strict" mode',
      description: "It's for reviews",
      content: "Body",
    });
  });

  it("strips comments from plain values but keeps a # inside a word", () => {
    const text = "---\nname: csharp # the id\ndescription: C# tips\n---\nBody";
    expect(parseSkillFile(text, "x.md")).toMatchObject({ name: "csharp", description: "C# tips" });
  });

  it("joins folded and literal block descriptions", () => {
    const folded = "---\nname: a\ndescription: >\n  Line one\n  line two\n---\nBody";
    expect(parseSkillFile(folded, "x.md").description).toBe("Line one line two");
    const literal = "---\nname: a\ndescription: |\n  Line one\n  line two\n---\nBody";
    expect(parseSkillFile(literal, "x.md").description).toBe("Line one\nline two");
  });

  it("without frontmatter, takes the whole file and names it after the first heading", () => {
    const text = "\n# Git hygiene\n\nSquash before merging.\n";
    expect(parseSkillFile(text, "notes.md")).toEqual({
      name: "Git hygiene",
      description: null,
      content: "# Git hygiene\n\nSquash before merging.",
    });
  });

  it("falls back to the heading when the frontmatter has no name, skipping fenced code", () => {
    const text = "---\ndescription: d\n---\n```sh\n# not a title\n```\n\n## Sub\n\n# Deploys #\n";
    expect(parseSkillFile(text, "SKILL.md")).toMatchObject({ name: "Deploys", description: "d" });
  });

  it("falls back to the file name, but never to 'SKILL'", () => {
    expect(parseSkillFile("Just text.", "release-notes.md").name).toBe("release-notes");
    expect(parseSkillFile("Just text.", "docs/Style.MD").name).toBe("Style");
    expect(parseSkillFile("Just text.", "SKILL.md").name).toBe("");
  });

  it("handles CRLF line endings and a BOM", () => {
    const text =
      '\uFEFF---\r\nname: win\r\ndescription: "From Windows"\r\n---\r\n# Title\r\n\r\nBody line\r\n';
    expect(parseSkillFile(text, "SKILL.md")).toEqual({
      name: "win",
      description: "From Windows",
      content: "# Title\n\nBody line",
    });
  });

  it("treats an unclosed --- as part of the body", () => {
    const text = "---\nname: nope\n\n# Real";
    expect(parseSkillFile(text, "a.md")).toEqual({ name: "Real", description: null, content: text });
  });

  it("gives an empty description as null", () => {
    expect(parseSkillFile("---\nname: a\ndescription: ''\n---\nB", "a.md").description).toBeNull();
  });
});
