import { describe, expect, it } from "vitest";

import { describeListenTarget, parseListenTarget } from "./listen";

describe("parseListenTarget", () => {
  it.each([
    ["3128", "0.0.0.0", { host: "0.0.0.0", port: 3128 }, "0.0.0.0:3128"],
    [" 4000 ", "127.0.0.1", { host: "127.0.0.1", port: 4000 }, "127.0.0.1:4000"],
    ["0", "::1", { host: "::1", port: 0 }, "[::1]:0"],
    ["/run/hangar/egress.sock", "0.0.0.0", { path: "/run/hangar/egress.sock" }, "/run/hangar/egress.sock"],
    ["./gw.sock", "0.0.0.0", { path: "./gw.sock" }, "./gw.sock"],
  ])("%s on %s", (spec, host, target, text) => {
    expect(parseListenTarget(spec, host)).toEqual(target);
    expect(describeListenTarget(parseListenTarget(spec, host))).toBe(text);
  });

  it.each(["", "http", "65536", "-1", "31.5", "host:3128"])("refuses %j", (spec) => {
    expect(() => parseListenTarget(spec, "127.0.0.1")).toThrow(/neither a TCP port/);
  });
});
