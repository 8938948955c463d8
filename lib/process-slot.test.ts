import { describe, expect, it, vi } from "vitest";

describe("processSlot", () => {
  it("creates the value once and hands every later caller the same one", async () => {
    const { processSlot } = await import("./process-slot");
    const create = vi.fn(() => ({ n: 1 }));
    const first = processSlot("test.once", create);
    expect(processSlot("test.once", create)).toBe(first);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it("is shared by a second copy of the module, as Next's separate bundles would load it", async () => {
    const { processSlot } = await import("./process-slot");
    const value = processSlot("test.copies", () => new Map<string, number>());
    vi.resetModules();
    const copy = await import("./process-slot");
    expect(copy.processSlot("test.copies", () => new Map<string, number>())).toBe(value);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("hangar.test.copies")]).toBe(value);
  });
});
