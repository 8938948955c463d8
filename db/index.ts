import fs from "node:fs";
import path from "node:path";

import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";

import * as schema from "./schema";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbKind = "postgres" | "pglite";

export type Database = {
  db: Db;
  kind: DbKind;
  /**
   * PostgreSQL LISTEN on a dedicated connection, so several Hangar processes on one database hear
   * each other's NOTIFY. Absent for PGlite, which only one process can open.
   */
  listen?: (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;
  close: () => Promise<void>;
};

export const MIGRATIONS_DIR = path.join(process.cwd(), "db", "migrations");

/** Opens PostgreSQL when a URL is given, else the embedded PGlite in `<dataDir>/pglite`, and migrates. */
export async function openDatabase(opts: {
  url: string | undefined;
  dataDir: string;
  poolSize: number;
}): Promise<Database> {
  if (opts.url) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    const client = postgres(opts.url, { max: opts.poolSize, onnotice: () => {} });
    const db = drizzle(client, { schema });
    // Several processes (web replicas, the gateway) may start together on one database: they take
    // turns, and each later one finds the migrations applied.
    const lock = await client.reserve();
    try {
      await lock`select pg_advisory_lock(hashtext('hangar:migrate'))`;
      await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    } finally {
      await lock`select pg_advisory_unlock(hashtext('hangar:migrate'))`.catch(() => undefined);
      lock.release();
    }
    return {
      db: db as unknown as Db,
      kind: "postgres",
      listen: async (channel, onPayload) => {
        const { unlisten } = await client.listen(channel, onPayload);
        return unlisten;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const dir = path.join(opts.dataDir, "pglite");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const client = await PGlite.create(dir);
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return { db: db as unknown as Db, kind: "pglite", close: () => client.close() };
}
