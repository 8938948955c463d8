/*
 * Loaded into bench:idle's Hangar only (NODE_OPTIONS="--expose-gc --import"): on SIGUSR2 it runs a
 * full garbage collection and writes process.memoryUsage() to BENCH_GC_OUT, so the benchmark compares
 * memory in use rather than how far the collector happened to be. It adds nothing else: no timer, no
 * wrapper.
 */
import fs from "node:fs";

const out = process.env.BENCH_GC_OUT;
if (out && typeof globalThis.gc === "function") {
  const gc = globalThis.gc;
  process.on("SIGUSR2", () => {
    gc();
    const tmp = `${out}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(process.memoryUsage()));
    fs.renameSync(tmp, out);
  });
}
