import { describe, expect, it } from "vitest";

import { ConfigError, loadConfig as loadEnv, oidcSettings } from "./config";

const loadConfig = (env: Record<string, string>) => loadEnv(env as NodeJS.ProcessEnv);

const SECRET = "s3cret-do-not-echo-9f2c";
const OIDC = {
  HANGAR_OIDC_ISSUER: "https://login.example.com",
  HANGAR_OIDC_CLIENT_ID: "hangar",
  HANGAR_OIDC_CLIENT_SECRET: SECRET,
};

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("loadConfig accepted this environment");
}

describe("OIDC settings", () => {
  it("are off when none is set", () => {
    expect(oidcSettings(loadConfig({}))).toBeNull();
  });

  it("with the three set: the issuer's host names the button, the scopes default", () => {
    expect(oidcSettings(loadConfig(OIDC))).toEqual({
      issuer: "https://login.example.com",
      clientId: "hangar",
      clientSecret: SECRET,
      name: "login.example.com",
      scopes: "openid email profile",
    });
    const named = loadConfig({
      ...OIDC,
      HANGAR_OIDC_NAME: "Acme SSO",
      HANGAR_OIDC_SCOPES: " openid  email ",
    });
    expect(oidcSettings(named)).toMatchObject({ name: "Acme SSO", scopes: "openid email" });
  });

  it("name each missing one of the three, and never the secret's value", () => {
    const noSecret = failure({
      HANGAR_OIDC_ISSUER: OIDC.HANGAR_OIDC_ISSUER,
      HANGAR_OIDC_CLIENT_ID: "hangar",
    });
    expect(noSecret.message).toContain("HANGAR_OIDC_CLIENT_SECRET: not set; OIDC sign-in needs");
    const onlySecret = failure({ HANGAR_OIDC_CLIENT_SECRET: SECRET });
    expect(onlySecret.message).toContain("HANGAR_OIDC_ISSUER, HANGAR_OIDC_CLIENT_ID: not set");
    expect(onlySecret.message).toContain("(HANGAR_OIDC_CLIENT_SECRET is set)");
    expect(onlySecret.message).not.toContain(SECRET);
    const onlyName = failure({ HANGAR_OIDC_NAME: "Acme" });
    expect(onlyName.message).toContain(
      "HANGAR_OIDC_ISSUER, HANGAR_OIDC_CLIENT_ID, HANGAR_OIDC_CLIENT_SECRET: not set",
    );
  });

  it("an empty value counts as unset", () => {
    expect(failure({ ...OIDC, HANGAR_OIDC_CLIENT_SECRET: "  " }).message).toContain(
      "HANGAR_OIDC_CLIENT_SECRET: not set",
    );
  });

  it("the issuer is https (http only on a loopback host), with no query or fragment", () => {
    for (const issuer of [
      "login.example.com",
      "http://login.example.com",
      "https://login.example.com/?tenant=x",
      "https://login.example.com/#x",
      "https://user:pw@login.example.com",
    ]) {
      const err = failure({ ...OIDC, HANGAR_OIDC_ISSUER: issuer });
      expect(err.message, issuer).toContain("HANGAR_OIDC_ISSUER must be the provider's https:// issuer URL");
      expect(err.message).not.toContain(SECRET);
    }
    for (const issuer of ["http://127.0.0.1:8080", "http://localhost:9000/realms/x", "https://a.example/t/"])
      expect(oidcSettings(loadConfig({ ...OIDC, HANGAR_OIDC_ISSUER: issuer }))?.issuer).toBe(issuer);
  });

  it("the scopes must include openid", () => {
    expect(failure({ ...OIDC, HANGAR_OIDC_SCOPES: "email profile" }).message).toContain(
      'HANGAR_OIDC_SCOPES must include "openid"',
    );
  });
});
