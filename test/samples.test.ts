/**
 * The shipped samples: pricing them works, exits 0, and the summary adds up; every priced line
 * has an exact cost, every invalid one names its field.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../", import.meta.url));

describe("The shipped samples", () => {
  it("prices every sample log, and the summary adds up", () => {
    // Prepare: the shipped samples with their profile map
    const args = ["price", "samples/logs", "--profiles", "samples/profiles.json"];

    // Act
    const result = spawnSync(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", ...args, "--json"], { cwd: root, encoding: "utf8" });

    // Assess
    expect(result.status).toBe(0);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const summary = JSON.parse(result.stderr.trim().split("\n").at(-1) ?? "{}");
    expect(summary.read).toBeGreaterThanOrEqual(2000);
    expect(summary.files).toBeGreaterThanOrEqual(6);
    expect(summary.priced + summary.unpriced + summary.invalid + summary.skipped).toBe(summary.read);
    expect(lines).toHaveLength(summary.read - summary.skipped);
    expect(summary.priced / summary.read).toBeGreaterThan(0.95);
    const tenants = new Set(lines.map((line) => line.tenantId));
    expect(tenants.size).toBeGreaterThanOrEqual(20);
    for (const line of lines) {
      if (line.status === "priced") expect(line.costUsd).toMatch(/^\d+\.\d{6,12}$/);
      if (line.status === "unpriced") expect(line.reason).toBeTruthy();
      if (line.status === "invalid") expect(line.reason).toMatch(/^[\w.[\]]+: .+\(at samples\/logs\/.+:\d+/);
    }
    // Cost of the priced lines adds up to the summary, exactly (pico-dollar integers)
    const pico = (usd: string) => BigInt(usd.replace(".", "").replace(/^0+(?=\d)/, "")) * 10n ** BigInt(12 - (usd.split(".")[1]?.length ?? 0));
    const total = lines.filter((line) => line.status === "priced").reduce((sum, line) => sum + pico(line.costUsd), 0n);
    expect(total).toBe(pico(summary.costUsd));
  });
});
