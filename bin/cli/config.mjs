// @ts-check
// The config file ({url, key}, mode 600) and the HANGAR_URL / HANGAR_KEY / HANGAR_CONFIG overrides.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CliError } from "./errors.mjs";
import { secrets } from "./output.mjs";

/**
 * The server and the credential every API call uses: a key (the master key or an `hgr_` API key),
 * or a user's login cookie (`hangar login --email`).
 * @typedef {{ url: string, key?: string, cookie?: string }} Config
 */

/**
 * The config file as `hangar login` writes it; any field may be missing.
 * @typedef {{ url?: string, key?: string, cookie?: string }} SavedConfig
 */

export function configPath() {
  if (process.env.HANGAR_CONFIG) return path.resolve(process.env.HANGAR_CONFIG);
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "hangar", "config.json");
}

/** @returns {SavedConfig} */
export function readConfigFile() {
  const file = configPath();
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const error = /** @type {NodeJS.ErrnoException} */ (e);
    if (error.code === "ENOENT") return {};
    throw new CliError(`Cannot read ${file}: ${error.message}`);
  }
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    throw new CliError(`${file} is not valid JSON: fix it or run \`hangar login\` again`);
  }
}

/**
 * The server and key to use: HANGAR_URL / HANGAR_KEY override the config file.
 * @returns {Config}
 */
export function loadConfig() {
  const file = readConfigFile();
  const url = process.env.HANGAR_URL || file.url;
  const key = process.env.HANGAR_KEY || file.key;
  // A key from the environment wins over a stored login.
  const cookie = key ? undefined : file.cookie;
  if (key) secrets.add(key);
  if (cookie) secrets.add(cookie.slice(cookie.indexOf("=") + 1));
  if (!url || (!key && !cookie)) {
    throw new CliError(
      "Not logged in: run `hangar login` (or set HANGAR_URL and HANGAR_KEY).\n" +
        `Config file: ${configPath()}`,
    );
  }
  return key ? { url: normaliseUrl(url), key } : { url: normaliseUrl(url), cookie };
}

/**
 * An http(s) URL without credentials, query, fragment or trailing slash.
 * @param {string} value
 */
export function normaliseUrl(value) {
  let url;
  try {
    url = new URL(String(value).trim());
  } catch {
    throw new CliError(`${value} is not a URL; expected something like http://localhost:3000`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`${value} must start with http:// or https://`);
  }
  if (url.username || url.password) throw new CliError("The URL must not contain credentials");
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}

/**
 * Writes the config file atomically with mode 600 (its directory 700); returns its path.
 * @param {Config} config
 */
export function writeConfig(config) {
  const file = configPath();
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
  return file;
}
