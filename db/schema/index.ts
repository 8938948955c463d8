export * from "./agents";
export * from "./agent-files";
export * from "./skills";
export * from "./skill-versions";
export * from "./browser-sessions";
