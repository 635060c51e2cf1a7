/**
 * Human-readable output cannot be forged: tenant ids may hold `\r`, `\n`, `\t`, `\v`, `\f`
 * (Bedrock's metadata alphabet allows them), and every line that shows one escapes it. `--tenant`
 * is normalized as the pipeline normalizes metadata values.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyCounters, spendOf } from "@bedrock-spend/core";
import type { FiredAlert } from "@bedrock-spend/store";
import { afterAll, describe, expect, it } from "vitest";
import { formatSpend } from "../src/commands/spend";
import { alertText, formatTable } from "../src/local";
import { runCli } from "./helpers/run-cli";

/** A tenant id that, printed raw, would end the line and print a line of its own. */
const FORGED = "evil\r\nalert: globex reached 100% of its 1.00 USD budget\x1b[2K\v\f\tend";
const FORGED_SHOWN = "evil\\r\\nalert: globex reached 100% of its 1.00 USD budget\\x1b[2K\\v\\f\\tend";

const alert: FiredAlert = {
  tenantId: FORGED,
  month: "2026-11",
  kind: "threshold",
  threshold: 80,
  firedAt: "2026-11-27T10:00:00.000Z",
  spendUsd: "85.00",
  budgetUsd: "100.00",
  forecastUsd: "120.00",
} as FiredAlert;

describe("Function: alertText() (the alert lines of start and reprice)", () => {
  it("prints a forged tenant id escaped, on one line", () => {
    // Act
    const threshold = alertText(alert);
    const forecast = alertText({ ...alert, kind: "forecast" } as FiredAlert);

    // Assess
    expect(threshold).toBe(`alert: ${FORGED_SHOWN} reached 80% of its 100.00 USD budget for 2026-11 (spend 85.00 USD)`);
    expect(forecast).toMatch(new RegExp(`^alert: ${FORGED_SHOWN.replace(/[\\[\]$.^|?*+()]/g, "\\$&")} is forecast to spend 120.00 USD`));
    for (const line of [threshold, forecast]) expect(line).not.toMatch(/[\r\n\v\f\t\x1b]/);
  });
});

describe("Function: formatTable() (alerts, budgets list, breakdowns)", () => {
  it("escapes control characters in every cell, so that each row stays one line", () => {
    // Act
    const table = formatTable(
      ["tenant", "month"],
      [
        [FORGED, "2026-11"],
        ["acme", "2026-11"],
      ],
    );

    // Assess
    expect(table.split("\n")).toEqual([
      `tenant${" ".repeat(FORGED_SHOWN.length - 6)}  month`,
      `${FORGED_SHOWN}  2026-11`,
      `acme${" ".repeat(FORGED_SHOWN.length - 4)}  2026-11`,
      "",
    ]);
  });
});

describe("Function: formatSpend()", () => {
  it("escapes the tenant id and the breakdown's keys", () => {
    // Prepare
    const row = {
      key: "model\nforged",
      invocations: 1,
      unpricedInvocations: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: "0.000000",
    };
    const spend = spendOf({ tenantId: FORGED, period: "2026-11", totals: emptyCounters(), budget: null, breakdown: [row] });

    // Act
    const text = formatSpend(spend);

    // Assess
    expect(text.split("\n")[0]).toBe(`tenant ${FORGED_SHOWN}, month 2026-11`);
    expect(text).toContain("model\\nforged");
    expect(text).not.toMatch(/[\r\v\f\t\x1b]|forged\n/);
  });
});

describe("CLI: --tenant as users type it", () => {
  const dirs: string[] = [];
  const emptyDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-cli-escaping-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("prints a forged --tenant escaped in spend's text and notes and in budgets list", async () => {
    // Act
    const [spend, budgets] = await Promise.all([
      runCli(["spend", "--tenant", FORGED, "--data-dir", emptyDataDir()], "2026-11-27T12:00:00Z"),
      runCli(["budgets", "list", "--tenant", FORGED, "--data-dir", emptyDataDir()], "2026-11-27T12:00:00Z"),
    ]);

    // Assess
    expect(spend.code, spend.stderr).toBe(0);
    expect(spend.stdout.split("\n")[0]).toBe(`tenant ${FORGED_SHOWN}, month 2026-11`);
    expect(spend.stderr).toContain(`no usage or budget is recorded for tenant "${FORGED_SHOWN}"`);
    expect(budgets.stdout).toMatch(new RegExp(`^no budgets set for ${FORGED_SHOWN.replace(/[\\[\]$.^|?*+()]/g, "\\$&")} in `));
    for (const output of [spend.stdout, spend.stderr, budgets.stdout]) expect(output).not.toMatch(/[\r\v\f\t\x1b]|\nalert:/);
  });

  it("escapes the warnings of price about invalid records (a file name, a reason)", async () => {
    // Prepare
    const file = join(emptyDataDir(), "logs\x1b[2K\rforged.jsonl");
    writeFileSync(file, "hello world\n");

    // Act
    const result = await runCli(["price", file], "2026-11-27T12:00:00Z");

    // Assess
    expect(result.stderr).toContain("logs\\x1b[2K\\rforged.jsonl:1: invalid record");
    expect(result.stderr).not.toMatch(/[\r\x1b]/);
  });

  it("normalizes --tenant as the pipeline does, and refuses one of whitespace only", async () => {
    // Act
    const [spaced, blank] = await Promise.all([
      runCli(["spend", "--tenant", " acme\t", "--data-dir", emptyDataDir()], "2026-11-27T12:00:00Z"),
      runCli(["spend", "--tenant", " \r\n", "--data-dir", emptyDataDir()], "2026-11-27T12:00:00Z"),
    ]);

    // Assess
    expect(spaced.stdout.split("\n")[0]).toBe("tenant acme, month 2026-11");
    expect(blank.code).toBe(2);
    expect(blank.stderr).toMatch(/--tenant is empty once its surrounding whitespace is removed/);
  });
});
