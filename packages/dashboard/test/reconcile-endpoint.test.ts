/**
 * `GET /api/reconcile` over a real data dir: no reconciliation yet, the known one, a malformed
 * one (a clear error naming the file and the field, and the server still answers), a rewrite.
 */
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixedClock } from "@bedrock-spend/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDashboardServer,
  type DashboardErrorBody,
  type DashboardServer,
  RECONCILE_HINT,
  type ReconcileNotLoaded,
  type ReconcileResponse,
  type ReconcileSummary,
  reconcileFileOf,
  reconcileFileSource,
  summarizeReconciliation,
} from "../src/index";
import { memoryStack } from "./helpers/fixtures";
import { getJson, raw } from "./helpers/http";
import { KNOWN_SNAPSHOT, NOVA, SONNET, writeReconcileFile } from "./helpers/reconcile";

const clock = fixedClock("2026-11-20T12:00:00.000Z");
const stack = memoryStack({ now: clock });
const errors: unknown[] = [];
let dataDir: string;
let file: string;
let server: DashboardServer;
let base: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "bedrock-spend-dashboard-reconcile-"));
  file = reconcileFileOf(dataDir);
  server = createDashboardServer({
    data: stack.data,
    spendApi: stack.spendApi,
    reconciliation: reconcileFileSource(file),
    now: clock,
    onError: (error) => errors.push(error),
  });
  ({ url: base } = await server.listen(0));
});

afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("GET /api/reconcile", () => {
  it("answers that no bill is loaded before the first reconciliation, with what to run", async () => {
    // Act
    const { status, headers, json } = await getJson<ReconcileResponse>(base, "/api/reconcile");

    // Assess
    expect(status).toBe(200);
    expect(headers["cache-control"]).toBe("no-store");
    expect(json).toStrictEqual({ loaded: false, location: file, hint: "run `bedrock-spend reconcile --cur PATH --data-dir DIR`" });
    expect(RECONCILE_HINT).toBe("run `bedrock-spend reconcile --cur PATH --data-dir DIR`");
  });

  it("answers the last reconciliation summed by day and by model, money as exact decimal strings", async () => {
    // Arrange
    await writeReconcileFile(dataDir, KNOWN_SNAPSHOT);

    // Act
    const response = await raw(base, "/api/reconcile");

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(response.body).not.toMatch(/"(?:\w+Usd|driftPct)":\s*[\d-]/);
    const summary = JSON.parse(response.body) as ReconcileSummary;
    // The summary of reconcile.test.ts's known figures (summarizeReconciliation), served as JSON.
    expect(summary).toStrictEqual(summarizeReconciliation(KNOWN_SNAPSHOT, file));
    expect(summary.byDay.map((day) => [day.day, day.driftUsd, day.complete])).toStrictEqual([
      ["2026-11-01", "0.650000", true],
      ["2026-11-02", "0.380000", false],
    ]);
    expect(summary.byModel.map((model) => [model.model, model.driftUsd])).toStrictEqual([
      [SONNET, "1.250000"],
      [NOVA, "-0.220000"],
    ]);
  });

  it("reads the file again on each request: a new reconciliation shows at once", async () => {
    // Arrange
    const october = {
      ...KNOWN_SNAPSHOT,
      from: "2026-10-01",
      to: "2026-10-01",
      rows: [KNOWN_SNAPSHOT.rows[0]].map((row) => ({ ...row, day: "2026-10-01" })),
      unmapped: [],
      totals: { logCostUsd: "1.500000", billCostUsd: "2.250000", unmappedCostUsd: "0", netBillCostUsd: "2.250000", driftUsd: "0.750000", driftPct: "33.33" },
    };
    await writeReconcileFile(dataDir, october);

    // Act
    const { json } = await getJson<ReconcileSummary>(base, "/api/reconcile");

    // Assess
    expect(json.byDay.map((day) => [day.day, day.driftUsd, day.driftPct])).toStrictEqual([["2026-10-01", "0.750000", "33.33"]]);
    expect(json.unmapped).toStrictEqual({ costUsd: "0", lines: [] });
  });

  it("answers a malformed file with an error naming the file and the field, and recovers once it is fixed", async () => {
    // Arrange
    const broken = { ...KNOWN_SNAPSHOT, rows: KNOWN_SNAPSHOT.rows.map((row, index) => (index === 2 ? { ...row, driftUsd: -0.12 } : row)) };
    await writeReconcileFile(dataDir, broken);

    // Act
    const { status, json } = await getJson<DashboardErrorBody>(base, "/api/reconcile");

    // Assess
    expect(status).toBe(500);
    expect(json).toStrictEqual({
      error: {
        code: "InvalidReconcileFile",
        field: "rows[2].driftUsd",
        message: `${file}: rows[2].driftUsd: Invalid input: expected string, received number`,
      },
    });
    await writeReconcileFile(dataDir, KNOWN_SNAPSHOT);
    expect((await getJson<ReconcileSummary>(base, "/api/reconcile")).json.totals.driftUsd).toBe("1.030000");
  });

  it("answers a file that does not add up, or is not JSON, with the same error", async () => {
    await writeReconcileFile(dataDir, { ...KNOWN_SNAPSHOT, totals: { ...KNOWN_SNAPSHOT.totals, driftUsd: "1.000000" } });
    const mismatch = await getJson<DashboardErrorBody>(base, "/api/reconcile");
    expect(mismatch.status).toBe(500);
    expect(mismatch.json.error).toStrictEqual({
      code: "InvalidReconcileFile",
      field: "totals.driftUsd",
      message: `${file}: totals.driftUsd: is 1.000000, but the rows' driftUsd sum to 1.030000`,
    });

    await writeReconcileFile(dataDir, '{"from": "2026-11-01", "rows": [');
    const truncated = await getJson<DashboardErrorBody>(base, "/api/reconcile");
    expect(truncated.status).toBe(500);
    expect(truncated.json.error.code).toBe("InvalidReconcileFile");
    expect(truncated.json.error.field).toBeUndefined();
    expect(truncated.json.error.message).toMatch(
      new RegExp(`^${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: not JSON \\(.+\\); run bedrock-spend reconcile again$`),
    );
  });

  it("answers that no bill is loaded again once the file is gone", async () => {
    await unlink(file);
    const { status, json } = await getJson<ReconcileNotLoaded>(base, "/api/reconcile");
    expect(status).toBe(200);
    expect(json).toStrictEqual({ loaded: false, location: file, hint: RECONCILE_HINT });
  });

  it("takes no query parameters and only GET or HEAD", async () => {
    const query = await getJson<DashboardErrorBody>(base, "/api/reconcile?day=2026-11-01");
    expect(query.status).toBe(400);
    expect(query.json.error.field).toBe("day");
    const post = await raw(base, "/api/reconcile", { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("answers that no bill is loaded when the server has no reconciliation source", async () => {
    const bare = createDashboardServer({ data: stack.data, spendApi: stack.spendApi, now: clock });
    const { url } = await bare.listen(0);
    try {
      const { status, json } = await getJson<ReconcileNotLoaded>(url, "/api/reconcile");
      expect(status).toBe(200);
      expect(json).toStrictEqual({ loaded: false, location: null, hint: RECONCILE_HINT });
    } finally {
      await bare.close();
    }
  });

  it("had no unexpected errors: a malformed file is an answer, not a crash", () => {
    expect(errors).toEqual([]);
  });
});
