/**
 * One value per Node process, shared by every copy of a module. Next.js bundles route handlers
 * and the custom server separately, and dev mode reloads modules, so module-level state would
 * otherwise exist twice. The value lives on globalThis under `Symbol.for("hangar.<name>")`.
 * This module imports nothing, so any layer (db/ included) may use it.
 */
export function processSlot<T>(name: string, create: () => T): T {
  const slots = globalThis as Record<symbol, T | undefined>;
  const key = Symbol.for(`hangar.${name}`);
  return (slots[key] ??= create());
}
