import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { StartupError } from "./config";

/*
 * The data folder holds what a first start generates (master key, encryption key), the embedded
 * database and a lock that keeps a second Hangar process off the same embedded database.
 */

export function ensureDataDir(dir: string) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Reads a secret file, or creates it (mode 0600) with `generate()`. Reports whether it was new. */
export function readOrCreateSecret(
  file: string,
  generate: () => string,
): { value: string; created: boolean } {
  try {
    return { value: fs.readFileSync(file, "utf8").trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const value = generate();
  try {
    fs.writeFileSync(file, value + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another process won the race: use what it wrote.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readOrCreateSecret(file, generate);
    throw err;
  }
  return { value, created: true };
}

export function generateMasterKey(): string {
  return "hk_" + randomBytes(24).toString("base64url");
}

export function generateEncryptionKey(): string {
  return randomBytes(32).toString("base64");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the data folder's lock for this process; a lock left by a dead process is taken over. */
export function lockDataDir(dir: string): () => void {
  const file = path.join(dir, "hangar.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o600 });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(fs.readFileSync(file, "utf8"));
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new StartupError(
          `Another Hangar process (pid ${holder}) is using the embedded database in ${dir}. ` +
            "Stop it, or give this one its own HANGAR_DATA_DIR or a DATABASE_URL.",
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock ${dir}`);
}
