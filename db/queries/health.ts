import { sql } from "drizzle-orm";

import { getDb } from "@/lib/runtime";

/** True when the database answers a trivial query. */
export async function pingDatabase(): Promise<boolean> {
  try {
    await getDb().execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
