import { ARCH, packagedBinary } from "../binaries";

/** The Agent SDK's platform package holds the same `claude` binary as the Claude Code CLI. */
export const claudeBinary = packagedBinary(
  "claude",
  `@anthropic-ai/claude-agent-sdk-linux-${ARCH}`,
  "claude",
);
