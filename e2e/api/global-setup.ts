import type { TestProject } from "vitest/node";

import { createTestDatabase, startServer, type DbChoice } from "../support/server";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    masterKey: string;
    logFile: string;
    dataDir: string;
    dbChoice: DbChoice;
    databaseUrl: string | null;
  }
}

/** One Hangar server for the whole suite, on a fresh PostgreSQL database or a fresh PGlite folder. */
export default async function setup(project: TestProject) {
  const dbChoice = (process.env.HANGAR_TEST_DB ?? "pglite") as DbChoice;
  const database = dbChoice === "postgres" ? await createTestDatabase() : null;
  const server = await startServer({ databaseUrl: database?.url });
  project.provide("baseUrl", server.url);
  project.provide("masterKey", server.masterKey);
  project.provide("logFile", server.logFile);
  project.provide("dataDir", server.dataDir);
  project.provide("dbChoice", dbChoice);
  project.provide("databaseUrl", database?.url ?? null);
  return async () => {
    await server.stop();
    await database?.drop();
  };
}
