import type { Database, Db, DbKind, Tx } from ".";
import { processSlot } from "../lib/process-slot";

type Slot = { db?: Db; kind?: DbKind };

// Next bundles route handlers apart from server.ts; the process-wide slot makes both share one client.
const slot = processSlot<Slot>("db", () => ({}));

/** Sets the process's database, once at start (lib/runtime), for every query not handed one. */
export function setDatabase(database: Pick<Database, "db" | "kind">): void {
  slot.db = database.db;
  slot.kind = database.kind;
}

export function getDb(): Db {
  if (!slot.db) throw new Error("database used before the runtime opened it");
  return slot.db;
}

export function dbKind(): DbKind {
  if (!slot.kind) throw new Error("database used before the runtime opened it");
  return slot.kind;
}

/** Runs `work` in one transaction (a savepoint when `db` is itself a transaction). */
export function transaction<T>(work: (tx: Tx) => Promise<T>, db: Db = getDb()): Promise<T> {
  return db.transaction(work);
}
