/*
 * `npm run check:sizes`: no source file over 500 lines and no function over 150 (issue "One home
 * per concern"). Product code only: app/, components/, lib/, db/ (not migrations), bin/ and
 * server.ts; tests and their scaffolding under e2e/ are tables and scripts, measured by reading.
 * Prints every offender and exits 1 when there is one.
 */
import fs from "node:fs";
import path from "node:path";

import ts from "typescript";

const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 150;
const ROOTS = ["app", "components", "lib", "db", "bin", "server.ts"];
const SKIP_DIRS = new Set(["node_modules", ".next", "migrations"]);

function sources(entry: string): string[] {
  if (!fs.existsSync(entry)) return [];
  if (fs.statSync(entry).isFile()) return [entry];
  return fs.readdirSync(entry, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(entry, e.name);
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : sources(full);
    const isSource = /\.(ts|tsx|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts");
    return isSource && !/\.(test|spec)\.[a-z]+$/.test(e.name) ? [full] : [];
  });
}

/** What a function is called in the report: its own name, or the variable or property it is bound to. */
function nameOf(node: ts.SignatureDeclaration, file: ts.SourceFile): string {
  if (node.name) return node.name.getText(file);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText(file);
  return ts.isConstructorDeclaration(node) ? "constructor" : `<${ts.SyntaxKind[node.kind]}>`;
}

function longFunctions(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const kind = file.endsWith(".tsx")
    ? ts.ScriptKind.TSX
    : file.endsWith(".mjs")
      ? ts.ScriptKind.JS
      : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const last = source.getLineAndCharacterOfPosition(node.end).line + 1;
      const lines = last - first + 1;
      if (lines > MAX_FUNCTION_LINES) {
        found.push(
          `${file}:${first}: function ${nameOf(node, source)} is ${lines} lines (max ${MAX_FUNCTION_LINES})`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = ROOTS.flatMap(sources);
const problems = files.flatMap((file) => {
  const lines = fs.readFileSync(file, "utf8").split("\n").length;
  const tooLong = lines > MAX_FILE_LINES ? [`${file}: ${lines} lines (max ${MAX_FILE_LINES})`] : [];
  return [...tooLong, ...longFunctions(file)];
});
for (const problem of problems) console.error(problem);
console.log(
  `${files.length} files checked: ${problems.length ? `${problems.length} over the limits` : "all within"}`,
);
process.exit(problems.length ? 1 : 0);
