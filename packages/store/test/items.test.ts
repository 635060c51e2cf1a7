/**
 * The table's items as data: an alert's id, the counters and the budget an item holds, and what a
 * stream change is about.
 */
import type { BudgetAlert } from "@bedrock-spend/core";
import { describe, expect, it } from "vitest";
import { alertIdOf, budgetFromItem, countersFromItem, type Item, MalformedBudgetError, tableChangeOf } from "../src/items";
import { alertSk, BUDGET_SK, dayModelSk, dedupKey, monthSk, tenantPk } from "../src/keys";
import { COUNTER_ATTRIBUTES, PK, SK } from "../src/layout";

const alertOf = (fields: Partial<BudgetAlert> = {}): BudgetAlert => ({
  kind: "threshold",
  threshold: 80,
  tenantId: "acme",
  month: "2026-11",
  spendUsd: "80.5",
  budgetUsd: "100.00",
  forecastUsd: "120",
  ...fields,
});
const budgetAlert = (fields: Partial<BudgetAlert> = {}) => alertOf(fields);
const forecastAlert = () => alertOf({ kind: "forecast", threshold: null });

describe("Function: alertIdOf()", () => {
  it.each([
    [budgetAlert(), "acme#2026-11#080"],
    [budgetAlert({ threshold: 5 }), "acme#2026-11#005"],
    [budgetAlert({ threshold: 1000 }), "acme#2026-11#1000"],
    [forecastAlert(), "acme#2026-11#FORECAST"],
    [budgetAlert({ tenantId: "a#2026-11#080%" }), "a%232026-11%23080%25#2026-11#080"],
  ])("identifies %o as %s", (alert, expected) => {
    // Act
    const id = alertIdOf(alert);

    // Assess
    expect(id).toBe(expected);
  });
});

describe("Function: alertIdOf() and the marker's key", () => {
  it("names the alert as its marker's sort key does, after the tenant", () => {
    // Assess: one escaping, one padding: the id is the marker's key, tenant first
    expect(alertIdOf(budgetAlert({ tenantId: "a#b" }))).toBe(`a%23b#${alertSk("2026-11", 80).slice(2)}`);
  });
});

describe("Function: countersFromItem()", () => {
  it("reads every counter, the cost as an exact bigint, and absent attributes as zero", () => {
    const item = { [COUNTER_ATTRIBUTES.invocations]: { N: "3" }, [COUNTER_ATTRIBUTES.costPico]: { N: "123456789012345678901234567890" } };
    expect(countersFromItem(item)).toEqual({
      invocations: 3,
      unpricedInvocations: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costPico: 123456789012345678901234567890n,
    });
  });
});

describe("Function: budgetFromItem()", () => {
  it("reads a budget item with its thresholds in ascending order", () => {
    expect(budgetFromItem("acme", { monthlyUsd: { S: "10.00" }, thresholds: { L: [{ N: "100" }, { N: "50" }] } })).toEqual({
      monthlyUsd: "10.00",
      thresholds: [50, 100],
    });
  });

  it.each([
    ["monthlyUsd", { monthlyUsd: { N: "10" }, thresholds: { L: [] } }],
    ["thresholds", { monthlyUsd: { S: "10" } }],
    ["thresholds", { monthlyUsd: { S: "10" }, thresholds: { L: [{ S: "50" }] } }],
  ] as [string, Item][])("refuses an item whose %s is not a budget's", (field, item) => {
    const act = () => budgetFromItem("acme", item);
    expect(act).toThrow(MalformedBudgetError);
    expect(act).toThrow(expect.objectContaining({ tenantId: "acme", field }));
  });
});

describe("Function: tableChangeOf()", () => {
  const keys = (pk: string, sk: string) => ({ [PK]: { S: pk }, [SK]: { S: sk } });

  it("tells a month total (with its new cost) and a budget from every other item", () => {
    expect(tableChangeOf(keys(tenantPk("a#b"), monthSk("2028-02")), { [COUNTER_ATTRIBUTES.costPico]: { N: "42" } })).toEqual({
      kind: "month",
      tenantId: "a#b",
      month: "2028-02",
      spendPico: 42n,
    });
    expect(tableChangeOf(keys(tenantPk("acme"), monthSk("2028-02")), undefined)).toEqual({
      kind: "month",
      tenantId: "acme",
      month: "2028-02",
      spendPico: undefined,
    });
    expect(tableChangeOf(keys(tenantPk("acme"), BUDGET_SK), undefined)).toEqual({ kind: "budget", tenantId: "acme" });
    for (const other of [
      keys(tenantPk("acme"), dayModelSk("2028-02-29", "m")),
      keys(tenantPk("acme"), alertSk("2028-02", 50)),
      keys(dedupKey("r").pk, dedupKey("r").sk),
      keys(tenantPk("acme"), "M#2028-13"),
    ]) {
      expect(tableChangeOf(other, undefined)).toBeUndefined();
    }
  });
});
