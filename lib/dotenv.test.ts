import { describe, expect, it } from "vitest";

import { parseDotenv } from "./dotenv";

describe("parseDotenv", () => {
  it("reads plain assignments and skips blank lines and comments", () => {
    const text = "# a comment\n\nFOO=bar\n  # indented comment\nBAZ=qux\n";
    expect(parseDotenv(text)).toEqual({
      entries: [
        ["FOO", "bar"],
        ["BAZ", "qux"],
      ],
      errors: [],
    });
  });

  it("accepts a leading export, spaces around = and CRLF line endings", () => {
    const { entries, errors } = parseDotenv("export TOKEN=abc\r\nNAME = value \r\n");
    expect(entries).toEqual([
      ["TOKEN", "abc"],
      ["NAME", "value"],
    ]);
    expect(errors).toEqual([]);
  });

  it("strips an inline comment after an unquoted value, but only after whitespace", () => {
    expect(parseDotenv("A=1 # one\nB=x#y\nC=https://h/p#frag\nD= #only comment").entries).toEqual([
      ["A", "1"],
      ["B", "x#y"],
      ["C", "https://h/p#frag"],
      ["D", ""],
    ]);
  });

  it("keeps empty values", () => {
    expect(parseDotenv("EMPTY=\nQUOTED=''\nDQ=\"\"").entries).toEqual([
      ["EMPTY", ""],
      ["QUOTED", ""],
      ["DQ", ""],
    ]);
  });

  it("keeps single-quoted values literally", () => {
    expect(parseDotenv(`S='a "b" \\n #not a comment' # comment`).entries).toEqual([
      ["S", 'a "b" \\n #not a comment'],
    ]);
  });

  it('unescapes \\n, \\" and \\\\ in double quotes and keeps other backslashes', () => {
    expect(parseDotenv(String.raw`D="line1\nline2 \"q\" \\n C:\dir" # c`).entries).toEqual([
      ["D", 'line1\nline2 "q" \\n C:\\dir'],
    ]);
  });

  it("keeps = signs inside values", () => {
    expect(parseDotenv("URL=postgres://u:p@h/db?sslmode=require\nB64=YWJj==").entries).toEqual([
      ["URL", "postgres://u:p@h/db?sslmode=require"],
      ["B64", "YWJj=="],
    ]);
  });

  it("lets a later duplicate win, keeping the first position", () => {
    expect(parseDotenv("A=1\nB=2\nA=3").entries).toEqual([
      ["A", "3"],
      ["B", "2"],
    ]);
  });

  it("reports lines it cannot read, with 1-based numbers, and adds nothing for them", () => {
    const text = [
      "GOOD=1",
      "no equals sign",
      "1BAD=starts with a digit",
      "MY-KEY=dash",
      'OPEN="never closed',
      "TRAIL='x' junk",
      "=novalue",
      "export",
      "ALSO_GOOD='2'",
    ].join("\n");
    const { entries, errors } = parseDotenv(text);
    expect(entries).toEqual([
      ["GOOD", "1"],
      ["ALSO_GOOD", "2"],
    ]);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(errors[0]).toEqual({ line: 2, text: "no equals sign" });
  });

  it("ignores a byte-order mark and handles empty input", () => {
    expect(parseDotenv("\uFEFFA=1").entries).toEqual([["A", "1"]]);
    expect(parseDotenv("")).toEqual({ entries: [], errors: [] });
  });

  it("leaves reserved-name checks to the editor", () => {
    expect(parseDotenv("PORT=3000").entries).toEqual([["PORT", "3000"]]);
  });
});
