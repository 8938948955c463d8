export * from "./agents";
export * from "./agent-files";
export * from "./skills";
export * from "./skill-versions";
export * from "./browser-sessions";
export * from "./sessions";
export * from "./session-files";
export * from "./session-events";
