/**
 * `bedrock-spend redrive --lake-errors`: locally, a spawned CLI on a data dir whose lake-errors/
 * holds every kind of raw failure (kept by the transform: oversize, transform-error, still invalid;
 * written by the local Firehose: a record it was not answered for, a row the lake writer failed
 * on), with the real local stack (DynamoDB Local, DuckDB, Parquet); then the lake is queried. On
 * a stage, the lake-redrive function invoked through the Lambda API (mocked: no local Lambda),
 * whose side is tested in functions/test/lake-redrive.test.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import { decodeAndPrice, defaultCatalog, Pricer, parseInvocationLog, type UsageRecord } from "@bedrock-spend/core";
import type { LakeRedriveResult } from "@bedrock-spend/pipeline";
import { encodeKinesisData, generateTraffic, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formatLakeRedrive, lakeRedriveFunctionName, redriveCommand } from "../src/commands/redrive";
import { type CliResult, runCli } from "./helpers/run-cli";

const NOW = "2026-11-27T12:00:00Z";

function cli(args: string[]): Promise<CliResult> {
  return runCli(args, NOW);
}

/** Real-shaped payloads (gzip, base64) of generated traffic, and the request ids each carries. */
function payloads(count: number, seed: number): { data: string; requestIds: string[] }[] {
  const items = [...generateTraffic({ seed, count, start: "2026-11-26T08:00:00Z", ratePerSecond: 2, malformedFraction: 0, unpricedFraction: 0 })];
  return [...toSubscriptionPayloads(items, { eventsPerPayload: 5 })].map((payload) => ({
    data: encodeKinesisData(payload),
    // The permissions line and anything else that is not an invocation record carry no request id.
    requestIds: payload.logEvents.flatMap((event) => {
      if (!event.message.startsWith("{")) return [];
      const parsed = parseInvocationLog(JSON.parse(event.message));
      return parsed.ok ? [parsed.log.requestId] : [];
    }),
  }));
}

describe("redrive --lake-errors on a data dir", () => {
  it("writes every raw failure it can into the lake, keeps what still fails in a new file, and leaves nothing else behind", async () => {
    // Prepare: the kinds of lake-errors/ entries local mode writes
    const dataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-redrive-"));
    const errors = join(dataDir, "lake-errors");
    mkdirSync(errors, { recursive: true });
    const [oversize, thrown, unanswered, , forRow] = payloads(25, 7) as { data: string; requestIds: string[] }[];
    const truncated = Buffer.from(oversize?.data ?? "", "base64")
      .subarray(0, 60)
      .toString("base64");
    const kept = (recordId: string, data: string, reason: string) =>
      JSON.stringify({ recordId, data, reason, fields: [], failedAt: "2026-11-26T08:01:00.000Z", source: `kinesis:shardId-000000000000:${recordId}` });
    writeFileSync(join(errors, "a1b2c3.jsonl"), `${kept("1", oversize?.data ?? "", "oversize")}\n${kept("2", truncated, "invalid")}\n`);
    writeFileSync(join(errors, "d4e5f6.jsonl"), `${kept("3", thrown?.data ?? "", "transform-error")}\n`);
    // Rows the lake writer failed on, as the local delivery keeps them: priced lake records.
    const rows: UsageRecord[] = decodeAndPrice(Buffer.from(forRow?.data ?? "", "base64"), new Pricer({ catalog: defaultCatalog() })).usage.map(
      ({ usage }) => usage.record,
    );
    writeFileSync(
      join(errors, "2026-11-26.jsonl"),
      `${[
        JSON.stringify({
          kind: "processing-failed",
          recordId: "000001-9",
          data: unanswered?.data,
          source: "kinesis:shardId-000000000000:9",
          failedAt: "2026-11-26T08:02:00.000Z",
        }),
        ...rows.map((row) => JSON.stringify({ kind: "delivery-failed", error: "IO Error: No space left on device", row })),
      ].join("\n")}\n`,
    );

    // Act
    const first = await cli(["redrive", "--lake-errors", "--data-dir", dataDir, "--json"]);
    const again = await cli(["redrive", "--lake-errors", "--data-dir", dataDir]);
    const lake = await cli(["query", "SELECT request_id FROM invocations ORDER BY request_id", "--data-dir", dataDir, "--json"]);

    // Assess
    // Only the transform's warning about the record that failed again (Powertools' JSON log line).
    expect(
      first.stderr
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([expect.objectContaining({ level: "WARN", message: "records transformed, some failed and were kept", kept: 1 })]);
    const result = JSON.parse(first.stdout) as LakeRedriveResult;
    expect(result).toEqual({
      batches: 3,
      redriven: 4,
      kept: [],
      reasons: { oversize: 1, invalid: 1, "transform-error": 1, "firehose:processing-failed": 1 },
    });
    expect(first.code).toBe(0);
    const expected = [oversize, thrown, unanswered, forRow].flatMap((payload) => payload?.requestIds ?? []).sort();
    expect(expected.length).toBeGreaterThan(15);
    const inLake = (JSON.parse(lake.stdout) as { rows: { request_id: string }[] }).rows.map((entry) => entry.request_id);
    expect(inLake).toEqual(expected);
    // The truncated payload failed again: kept again, in a file of its own, as received; the others are gone.
    const left = readdirSync(errors);
    expect(left).toHaveLength(1);
    const keptAgain = readFileSync(join(errors, left[0] as string), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(keptAgain).toEqual([expect.objectContaining({ data: truncated, reason: "invalid", fields: ["gzip"] })]);
    // A second redrive sends it once more, and the lake holds each invocation once.
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      new RegExp(`^redrove 1 records from 1 of 1 batches in ${errors.replace(/[/.]/g, "\\$&")} \\(they had failed: invalid 1\\)\\n$`),
    );
  }, 120_000);

  it("refuses to run without --lake-errors, or with local options for a stage, naming the option", async () => {
    const results = await Promise.all([
      cli(["redrive"]),
      cli(["redrive", "--lake-errors", "--stage", "prod", "--prices", "x.json"]),
      cli(["redrive", "--lake-errors", "--region", "eu-west-1"]),
    ]);
    expect(results.map((result) => result.code)).toEqual([2, 2, 2]);
    expect(results[0]?.stderr).toMatch(/give --lake-errors/);
    expect(results[1]?.stderr).toMatch(/--prices is not for --stage/);
    expect(results[2]?.stderr).toMatch(/--region is for a deployed stage/);
  });
});

describe("redrive --lake-errors --stage", () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => {
    lambda.reset();
    vi.restoreAllMocks();
  });

  it("invokes the stage's lake-redrive function and prints its result; kept batches make exit status 1", async () => {
    // Prepare
    const result: LakeRedriveResult = {
      batches: 3,
      redriven: 41,
      kept: [{ source: "s3://raw/", batch: "2026/11/26/x.jsonl", reason: "ServiceUnavailableException" }],
      reasons: { oversize: 41 },
    };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(result)) as never });
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);

    // Act
    const code = await redriveCommand(["--lake-errors", "--stage", "prod", "--region", "eu-west-1"], new LambdaClient({ region: "eu-west-1" }));

    // Assess
    expect(code).toBe(1);
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: "bedrock-spend-prod-lake-redrive",
      InvocationType: "RequestResponse",
    });
    expect(out.mock.calls.map(([text]) => String(text)).join("")).toBe(
      "redrove 41 records from 2 of 3 batches in stage prod (they had failed: oversize 41)\nkept s3://raw/ 2026/11/26/x.jsonl: ServiceUnavailableException\n",
    );
  });

  it("names the function and the deploy when the stage has none", async () => {
    lambda.on(InvokeCommand).rejects(new ResourceNotFoundException({ message: "Function not found", $metadata: {} }));
    await expect(redriveCommand(["--lake-errors", "--stage", "dev"], new LambdaClient({}))).rejects.toThrow(
      `${lakeRedriveFunctionName("dev")}: stage dev has no lake-redrive function (deploy it: sst deploy --stage dev)`,
    );
  });

  it("names the function's error when the run fails, and says that a run again finishes it", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: new TextEncoder().encode('{"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 900.00 seconds"}') as never,
    });
    await expect(redriveCommand(["--lake-errors", "--stage", "dev"], new LambdaClient({}))).rejects.toThrow(
      /the redrive failed \(Unhandled\): Sandbox.Timedout: Task timed out after 900.00 seconds\. Batches it finished are gone; run it again for the rest/,
    );
  });

  it("says when there was nothing to redrive", () => {
    expect(formatLakeRedrive({ batches: 0, redriven: 0, kept: [], reasons: {} }, "stage prod")).toBe("no raw failures in stage prod\n");
  });
});
