import { ARCH, packagedBinary } from "../binaries";

const TRIPLE = process.arch === "arm64" ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl";

export const codexBinary = packagedBinary(
  "codex",
  `@openai/codex-linux-${ARCH}`,
  "vendor",
  TRIPLE,
  "bin",
  "codex",
);
