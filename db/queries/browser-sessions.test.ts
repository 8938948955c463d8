import { expect, it } from "vitest";

import { createBrowserSession, isBrowserSessionActive, revokeBrowserSession } from "./browser-sessions";
import { describeOnEachDatabase } from "./test-support";

describeOnEachDatabase((inRollback) => {
  it("a login is active until it is revoked or expires", async () => {
    await inRollback(async (tx) => {
      const later = new Date(Date.now() + 60_000);
      const login = await createBrowserSession({ expiresAt: later, userAgent: "x".repeat(400) }, tx);
      expect(await isBrowserSessionActive(login.id, tx)).toBe(true);
      await revokeBrowserSession(login.id, tx);
      expect(await isBrowserSessionActive(login.id, tx)).toBe(false);
      const past = await createBrowserSession(
        { expiresAt: new Date(Date.now() - 1000), userAgent: null },
        tx,
      );
      expect(await isBrowserSessionActive(past.id, tx)).toBe(false);
      expect(await isBrowserSessionActive("bs_none", tx)).toBe(false);
    });
  });
});
