/** Path prefixes shared by more than one resource group. */
export const AGENTS = "/api/v1/managed_agents/agents";
export const SESSIONS = "/api/v1/managed_agents/sessions";
