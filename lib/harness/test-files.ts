import fs from "node:fs";
import path from "node:path";

import type { HarnessFile } from "./types";

/*
 * Test scaffolding: writes a launch's files into a HOME on the host as the sandbox bootstrap would
 * (`~/` under home; {{HOME}}, {{WORKSPACE}} and {{PRIVATE}} filled in for template files), and the
 * model token into the private folder as `model-token` as the bootstrap does, so tests run the real
 * harness binaries with the very configuration Hangar generates, never a hand-copied one.
 */
export function writeHarnessFiles(files: HarnessFile[], home: string, cwd: string, modelToken = ""): void {
  const privateDir = path.join(home, ".hangar-private");
  fs.mkdirSync(privateDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(privateDir, "model-token"), modelToken, { mode: 0o600 });
  for (const file of files) {
    const full = path.join(home, file.path.replace(/^~\//, ""));
    fs.mkdirSync(path.dirname(full), { recursive: true });
    const content = file.template
      ? file.content
          .replaceAll("{{WORKSPACE}}", cwd)
          .replaceAll("{{HOME}}", home)
          .replaceAll("{{PRIVATE}}", privateDir)
      : file.content;
    fs.writeFileSync(full, content);
  }
}
