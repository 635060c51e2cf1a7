import { describe, expect, it } from "vitest";
import { Attributor, aliasMapFrom, DEFAULT_ALIASES, UNATTRIBUTED } from "../src/attribution";
import { ConfigurationError } from "../src/errors";

describe("Class: Attributor", () => {
  const attributor = new Attributor();

  it.each(["tenantId", "TenantID", "tenant_id", "tenant-id", "TENANT", "Tenant Id", "customerId"])("reads the tenant from %s", (key) => {
    expect(attributor.attribute({ [key]: "acme" }).tenantId).toBe("acme");
  });

  it("reads every dimension", () => {
    expect(attributor.attribute({ TenantID: "acme", tier: "enterprise", Department: "sales", user_id: "u1", appId: "chat", other: "kept" })).toEqual({
      tenantId: "acme",
      tenantGroup: "enterprise",
      departmentId: "sales",
      userId: "u1",
      applicationId: "chat",
    });
  });

  it("gives records without a tenant to 'unattributed', and treats blank values as absent", () => {
    expect(attributor.attribute({}).tenantId).toBe(UNATTRIBUTED);
    expect(attributor.attribute({ tenantId: "  " }).tenantId).toBe(UNATTRIBUTED);
  });

  it("prefers the earlier alias when several are present, whatever the key order", () => {
    expect(attributor.attribute({ customer: "b", tenantId: "a" }).tenantId).toBe("a");
    expect(attributor.attribute({ tenantId: "a", customer: "b" }).tenantId).toBe("a");
  });

  it("trims values", () => {
    expect(attributor.attribute({ tenantId: " acme " }).tenantId).toBe("acme");
  });
});

describe("Function: aliasMapFrom()", () => {
  it("replaces the listed dimensions and keeps the defaults for the others", () => {
    const aliases = aliasMapFrom({ tenantId: ["acct"] });
    expect(aliases.tenantId).toEqual(["acct"]);
    expect(aliases.departmentId).toEqual(DEFAULT_ALIASES.departmentId);
    expect(new Attributor(aliases).attribute({ ACCT: "x", tenantId: "ignored" }).tenantId).toBe("x");
  });

  it.each([
    [[], "must be a JSON object"],
    [{ tenant: ["x"] }, 'unknown dimension "tenant"'],
    [{ tenantId: [] }, "non-empty array"],
    [{ tenantId: [1] }, "non-empty array"],
  ])("fails closed on %j", (value, message) => {
    expect(() => aliasMapFrom(value, "aliases.json")).toThrow(ConfigurationError);
    expect(() => aliasMapFrom(value, "aliases.json")).toThrow(message);
  });

  it("refuses a key mapped to two dimensions", () => {
    expect(() => new Attributor(aliasMapFrom({ tenantId: ["dept"] }))).toThrow(/mapped to both/);
  });
});
