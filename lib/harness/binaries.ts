import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import type { HarnessBinary } from "./types";

/*
 * Harness binaries come from pinned npm packages. Their wrapper scripts depend on install scripts
 * (which npm may not run), so Hangar resolves the native binary in each platform package directly.
 */

const require = createRequire(path.join(process.cwd(), "package.json"));

/** This host's architecture as the platform packages name it. */
export const ARCH = process.arch === "arm64" ? "arm64" : "x64";

function packageDir(pkg: string): string {
  return path.dirname(require.resolve(`${pkg}/package.json`));
}

/** The binary at `file` (path segments) inside the npm package `pkg`. */
export function packagedBinary(name: string, pkg: string, ...file: string[]): HarnessBinary {
  return {
    name,
    packageDir: () => packageDir(pkg),
    file: () => path.join(packageDir(pkg), ...file),
  };
}

/** The binary's file when this install has it; null when its platform package is missing. */
export function installedFile(binary: HarnessBinary): string | null {
  try {
    const file = binary.file();
    return fs.existsSync(file) ? file : null;
  } catch {
    return null;
  }
}
