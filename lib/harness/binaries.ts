import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/*
 * Harness binaries come from pinned npm packages. Their wrapper scripts depend on install scripts
 * (which npm may not run), so Hangar resolves the native binary in each platform package directly.
 * opencode is installed as its platform package alone: the `opencode-ai` wrapper lists platform
 * packages this registry does not serve, which leaves a lock file that `npm ci` refuses.
 */

const require = createRequire(path.join(process.cwd(), "package.json"));

function inPackage(pkg: string, ...rest: string[]): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), ...rest);
}

const ARCH = process.arch === "arm64" ? "arm64" : "x64";
const TRIPLE = process.arch === "arm64" ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl";

/** The folders holding the binaries, which a sandbox must see (read-only) wherever Hangar is installed. */
export function harnessPackageDirs(): string[] {
  return [
    inPackage(`opencode-linux-${ARCH}`),
    inPackage(`@anthropic-ai/claude-agent-sdk-linux-${ARCH}`),
    inPackage(`@openai/codex-linux-${ARCH}`),
  ];
}

export const harnessBinaries = {
  opencode: () => inPackage(`opencode-linux-${ARCH}`, "bin", "opencode"),
  /** The Agent SDK's platform package holds the same `claude` binary as the Claude Code CLI. */
  claude: () => inPackage(`@anthropic-ai/claude-agent-sdk-linux-${ARCH}`, "claude"),
  codex: () => inPackage(`@openai/codex-linux-${ARCH}`, "vendor", TRIPLE, "bin", "codex"),
};

/**
 * The binaries present in this install (a missing platform package is null), for callers that must
 * say what they skip rather than fail: the harness tests.
 */
export function installedHarnessBinaries(): Record<keyof typeof harnessBinaries, string | null> {
  const found = (binary: () => string) => {
    try {
      const file = binary();
      return fs.existsSync(file) ? file : null;
    } catch {
      return null;
    }
  };
  return {
    opencode: found(harnessBinaries.opencode),
    claude: found(harnessBinaries.claude),
    codex: found(harnessBinaries.codex),
  };
}
