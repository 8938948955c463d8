import { startServer } from "../support/server";

/** One Hangar (embedded database) for the browser tests; the workers read its URL and key from env. */
export default async function globalSetup() {
  const server = await startServer({});
  process.env.HANGAR_UI_BASE_URL = server.url;
  process.env.HANGAR_UI_MASTER_KEY = server.masterKey;
  process.env.HANGAR_UI_LOG = server.logFile;
  return async () => {
    await server.stop();
  };
}
