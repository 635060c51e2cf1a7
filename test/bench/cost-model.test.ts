import { describe, expect, it } from "vitest";
import { type CostInputs, formatPico, glueBatchLines, modelMonth, perMillionPico, pipelineLines, totalPico, usdToPico } from "../../scripts/bench/cost-model";

const INPUTS: CostInputs = {
  rawBytesPerRecord: 2830,
  gzipBytesPerRecord: 660,
  documentBytesPerRecord: 700,
  parquetBytesPerRecord: 88,
  wruPerRecord: 4.5,
  transformUsPerRecord: 50,
  transformRecordsPerInvocation: 769,
  aggregateUsPerRecord: 400,
  aggregateFixedMsPerInvocation: 20,
  aggregateRecordsPerInvocation: 500,
  lambdaMemoryMb: 1024,
  dedupMarkerBytes: 150,
  dedupRetentionDays: 35,
  alarms: 12,
  dashboards: 1,
  customMetrics: 20,
  kmsKeys: 1,
  glueWorkers: 10,
  glueDpuPerWorker: 8,
  glueIntervalHours: 3,
  glueRunMinutes: 3,
  glueCrawlers: 3,
  glueCrawlerDpu: 2,
  glueCrawlerMinutes: 10,
};

describe("Module: cost-model", () => {
  it("prices DynamoDB writes as computed by hand", () => {
    // Act
    const writes = pipelineLines(INPUTS, 100_000_000).find((line) => line.item === "DynamoDB on-demand writes");

    // Assess: 100,000,000 x 4.5 WRU x $0.625 per million WRU = $281.25, exactly.
    expect(writes?.costPico).toBe(281_250_000_000_000n);
  });

  it("prices the Glue job as computed by hand", () => {
    // Act
    const job = glueBatchLines(INPUTS, 1_000_000)[0];

    // Assess: 730 / 3 runs x 80 DPU x 0.05 h x $0.44 = $428.2666...
    expect(formatPico(job?.costPico ?? 0n, 4)).toBe("428.2667");
  });

  it("adds its lines up to the totals it reports, and divides them per million", () => {
    // Act
    const month = modelMonth(INPUTS, 1_000_000);

    // Assess
    expect(month.totals.pipeline).toBe(totalPico(month.lines.pipeline));
    expect(month.totals.glueBatch).toBe(totalPico(month.lines.glueBatch));
    expect(month.totals.pipeline).toBe(month.lines.pipeline.reduce((sum, line) => sum + line.costPico, 0n));
    expect(month.perMillion.pipeline).toBe(month.totals.pipeline);
    expect(perMillionPico(month.totals.glueBatch, 100_000_000)).toBe((month.totals.glueBatch + 50n) / 100n);
  });

  it("keeps prices exact to the pico-dollar", () => {
    // Assess
    expect(usdToPico("0.0000133334")).toBe(13_333_400n);
    expect(formatPico(usdToPico("0.625"), 2)).toBe("0.63");
    expect(() => usdToPico("1e-3")).toThrow(RangeError);
  });
});
