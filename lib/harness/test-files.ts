import fs from "node:fs";
import path from "node:path";

import type { HarnessFile } from "./types";

/*
 * Test scaffolding: writes a launch's files into a HOME on the host as the sandbox bootstrap would
 * (`~/` under home, {{HOME}} and {{WORKSPACE}} filled in for template files), so tests run the real
 * harness binaries with the very configuration Hangar generates, never a hand-copied one.
 */
export function writeHarnessFiles(files: HarnessFile[], home: string, cwd: string): void {
  for (const file of files) {
    const full = path.join(home, file.path.replace(/^~\//, ""));
    fs.mkdirSync(path.dirname(full), { recursive: true });
    const content = file.template
      ? file.content.replaceAll("{{WORKSPACE}}", cwd).replaceAll("{{HOME}}", home)
      : file.content;
    fs.writeFileSync(full, content);
  }
}
