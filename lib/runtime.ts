import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { openDatabase, type Database, type DbKind } from "@/db";
import { setDatabase } from "@/db/client";
import { processSlot } from "@/lib/process-slot";

import { loadConfig, type Config } from "./config";
import {
  ensureDataDir,
  generateEncryptionKey,
  generateMasterKey,
  lockDataDir,
  readOrCreateSecret,
} from "./data-dir";
import { log, setLogLevel } from "./log";
import { SecretBox } from "./secret-box";

export type Runtime = {
  config: Config;
  dbKind: DbKind;
  /** See Database.listen: cross-process notifications on PostgreSQL; undefined on PGlite. */
  listen: Database["listen"];
  box: SecretBox;
  /** SHA-256 of the master key; the key itself is not kept around. */
  masterKeyDigest: Buffer;
  /** The generated master key until a start has printed it (so it is printed once); else null. */
  generatedMasterKey: string | null;
  masterKeyFile: string | null;
  close: () => Promise<void>;
};

// Next bundles route handlers apart from server.ts; the process-wide slot makes both share one runtime.
type Slot = { promise?: Promise<Runtime>; value?: Runtime };
const slot = processSlot<Slot>("runtime", () => ({}));

function parseEncryptionKey(value: string): Buffer {
  return /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
}

/** Present while the generated master key has not been printed by a start that succeeded. */
function unshownMarker(masterKeyFile: string): string {
  return `${masterKeyFile}.unshown`;
}

/** Called once the generated master key has been printed: later starts only say where it is. */
export function markMasterKeyShown(rt: Pick<Runtime, "masterKeyFile">): void {
  if (rt.masterKeyFile) fs.rmSync(unshownMarker(rt.masterKeyFile), { force: true });
}

async function start(): Promise<Runtime> {
  const config = loadConfig();
  setLogLevel(config.LOG_LEVEL);
  const dataDir = config.HANGAR_DATA_DIR;
  ensureDataDir(dataDir);

  let generatedMasterKey: string | null = null;
  let masterKeyFile: string | null = null;
  let masterKey = config.MASTER_KEY;
  if (!masterKey) {
    masterKeyFile = path.join(dataDir, "master.key");
    const unshown = unshownMarker(masterKeyFile);
    const secret = readOrCreateSecret(masterKeyFile, generateMasterKey);
    masterKey = secret.value;
    // Until a start has printed it (a first start can fail after making it, e.g. on a busy port).
    if (secret.created) fs.writeFileSync(unshown, "", { mode: 0o600 });
    if (secret.created || fs.existsSync(unshown)) generatedMasterKey = secret.value;
  }
  const encryptionKey =
    config.HANGAR_ENCRYPTION_KEY ??
    readOrCreateSecret(path.join(dataDir, "encryption.key"), generateEncryptionKey).value;

  const unlock = config.DATABASE_URL ? () => {} : lockDataDir(dataDir);
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir,
    poolSize: config.HANGAR_DB_POOL_SIZE,
  });
  setDatabase(database);
  log.info("database ready", { database: database.kind });

  return {
    config,
    dbKind: database.kind,
    listen: database.listen,
    box: new SecretBox(parseEncryptionKey(encryptionKey)),
    masterKeyDigest: createHash("sha256").update(masterKey).digest(),
    generatedMasterKey,
    masterKeyFile,
    close: async () => {
      await database.close();
      unlock();
    },
  };
}

/** Starts the runtime once per process (config, keys, database, migrations) and returns it. */
export function initRuntime(): Promise<Runtime> {
  slot.promise ??= start().then((rt) => (slot.value = rt));
  return slot.promise;
}

/** The started runtime; route code runs after `initRuntime()` has resolved. */
export function runtime(): Runtime {
  if (!slot.value) throw new Error("Hangar runtime used before initRuntime() finished");
  return slot.value;
}
