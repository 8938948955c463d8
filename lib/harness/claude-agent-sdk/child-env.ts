// Environment the Agent SDK may give its CLI child; everything else it would pass is Hangar's own
// process environment, which must never reach a sandbox.
const SDK_CHILD_ENV = /^(CLAUDE_|CLAUDECODE$|ANTHROPIC_(?!API_KEY$|AUTH_TOKEN$|BASE_URL$)|DEBUG$|MCP_)/;

/** The variables the SDK added for its CLI child (not copies of Hangar's own environment). */
export function sdkChildEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || !SDK_CHILD_ENV.test(key)) continue;
    if (process.env[key] === value) continue;
    out[key] = value;
  }
  return out;
}
