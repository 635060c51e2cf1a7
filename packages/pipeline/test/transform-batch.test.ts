/**
 * The Firehose transform's batch: real-shaped subscription records in, one answer per record out,
 * the lake documents the same pricer computes for the aggregates, the response under its budget.
 */
import { gzipSync } from "node:zlib";
import { decodeBytes, defaultCatalog, type PricedInvocation, Pricer, parseInvocationLog, parseUsd, USAGE_COLUMNS, type UsageRecord } from "@bedrock-spend/core";
import {
  controlMessagePayload,
  encodeKinesisData,
  generateTraffic,
  gzipStable,
  type InvocationLogRecord,
  type SubscriptionPayload,
  type TrafficItem,
  type TrafficOptions,
  toSubscriptionPayloads,
} from "@bedrock-spend/traffic";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { invocationLog, subscriptionPayload, withTokens } from "../../core/test/helpers/factories";
import { referenceLakeLine } from "../../core/test/helpers/reference-lake-line";
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  type FirehoseInputRecord,
  type FirehoseOutputRecord,
  LAMBDA_RESPONSE_LIMIT_BYTES,
  type TransformStats,
  transformFirehoseRecords,
} from "../src/transform-batch";

const pricer = new Pricer({ catalog: defaultCatalog() });

/** The document columns, derived from the single definition: every column that is not a partition column. */
const DATA_COLUMN_NAMES = USAGE_COLUMNS.filter((column) => !("partition" in column && column.partition)).map((column) => column.name);
const PARTITION_COLUMN_NAMES = USAGE_COLUMNS.filter((column) => "partition" in column && column.partition).map((column) => column.name);

function items(options: TrafficOptions): TrafficItem[] {
  return [...generateTraffic({ permissionsLine: false, malformedFraction: 0, ...options })];
}

function payloads(trafficItems: TrafficItem[], eventsPerPayload = 25): SubscriptionPayload[] {
  return [...toSubscriptionPayloads(trafficItems, { eventsPerPayload })];
}

function lines(output: FirehoseOutputRecord): string[] {
  const text = Buffer.from(output.data, "base64").toString("utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text.slice(0, -1).split("\n");
}

/** The exact text of the cost_usd value in a lake line (null or the number literal). */
function costText(line: string): string | undefined {
  return /"cost_usd":(null|[^,}]+)[,}]/.exec(line)?.[1];
}

/** What the aggregate path makes of the same data: decodeBytes then Pricer.priceItem. */
function pricedByAggregatePath(data: string): UsageRecord[] {
  return decodeBytes(Buffer.from(data, "base64")).flatMap((item) => {
    const outcome = pricer.priceItem(item);
    return outcome.kind === "usage" ? [outcome.usage.record] : [];
  });
}

/** String leaves of prompt and response bodies long enough to be recognisable. */
function bodyTexts(trafficItems: TrafficItem[]): string[] {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") {
      // Prose (prompts, answers, system prompts), not the model names a response body repeats.
      if (value.length >= 24 && value.split(" ").length > 3) texts.push(value.slice(0, 24));
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
  };
  for (const item of trafficItems) {
    if (item.kind === "record") {
      walk(item.record.input.inputBodyJson);
      walk(item.record.output.outputBodyJson);
    }
  }
  return texts;
}

function responseBytes(records: FirehoseOutputRecord[]): number {
  return Buffer.byteLength(JSON.stringify({ records }));
}

function checkAccounting(stats: TransformStats): void {
  expect(stats.ok + stats.dropped + stats.processingFailed + stats.oversizeFailed).toBe(stats.recordsIn);
  expect(stats.failures).toHaveLength(stats.processingFailed + stats.oversizeFailed);
}

// Real-shaped record data, built once: base64 of gzip of CloudWatch Logs subscription payloads.
const START = "2026-11-27T10:00:00Z";
const goodItems = items({ seed: 7, count: 120, start: START, unpricedFraction: 0.05 });
const goodData = payloads(goodItems).map(encodeKinesisData);
const malformedItems = items({ seed: 8, count: 6, malformedFraction: 1, unpricedFraction: 0, start: START });
const permissionsItem = [...generateTraffic({ count: 0 })];
const mixedItems = [...goodItems.slice(0, 3), malformedItems[0], goodItems[3], malformedItems[1]] as TrafficItem[];
const validGzip = Buffer.from(encodeKinesisData(payloads(goodItems.slice(0, 5))[0] as SubscriptionPayload), "base64");

/** One sample per kind of record a Firehose stream fed by a subscription can carry, and the result it must get. */
const SAMPLES = {
  good: { data: goodData[0] as string, result: "Ok" },
  unpriced: { data: encodeKinesisData(payloads(items({ seed: 9, count: 3, unpricedFraction: 1, start: START }))[0] as SubscriptionPayload), result: "Ok" },
  mixed: { data: encodeKinesisData(payloads(mixedItems)[0] as SubscriptionPayload), result: "Ok" },
  control: { data: encodeKinesisData(controlMessagePayload(Date.parse(START))), result: "Dropped" },
  permissions: { data: encodeKinesisData(payloads(permissionsItem)[0] as SubscriptionPayload), result: "Dropped" },
  noEvents: { data: encodeKinesisData({ ...(payloads(goodItems.slice(0, 1))[0] as SubscriptionPayload), logEvents: [] }), result: "Dropped" },
  malformedOnly: { data: encodeKinesisData(payloads(malformedItems)[0] as SubscriptionPayload), result: "ProcessingFailed" },
  badBase64: { data: "H4sIAAAAAAAA/not base64!*", result: "ProcessingFailed" },
  badGzip: { data: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from("not deflate at all")]).toString("base64"), result: "ProcessingFailed" },
  truncatedGzip: { data: validGzip.subarray(0, Math.floor(validGzip.length / 2)).toString("base64"), result: "ProcessingFailed" },
  notJson: { data: gzipStable("Task timed out after 3.00 seconds").toString("base64"), result: "ProcessingFailed" },
  truncatedJson: { data: gzipStable(JSON.stringify(payloads(goodItems.slice(0, 2))[0]).slice(0, 300)).toString("base64"), result: "ProcessingFailed" },
} as const;
type SampleKind = keyof typeof SAMPLES;
const SAMPLE_KINDS = Object.keys(SAMPLES) as SampleKind[];

describe("Function: transformFirehoseRecords()", () => {
  it("turns real-shaped subscription records into the lake documents the Pricer computes, record for record", () => {
    // Prepare
    const input = goodData.map((data, index) => ({ recordId: `rec-${index}`, data }));

    // Act
    const { records, stats } = transformFirehoseRecords(input, pricer);

    // Assess
    expect(records.map((record) => record.recordId)).toEqual(input.map((record) => record.recordId));
    expect(records.every((record) => record.result === "Ok")).toBe(true);
    let rows = 0;
    let unpriced = 0;
    records.forEach((output, index) => {
      const expected = pricedByAggregatePath(goodData[index] as string);
      const written = lines(output);
      expect(written).toHaveLength(expected.length);
      written.forEach((line, row) => {
        const record = expected[row] as UsageRecord;
        const document = JSON.parse(line) as Record<string, unknown>;
        expect(Object.keys(document).sort()).toEqual([...DATA_COLUMN_NAMES].sort());
        expect(document.request_id).toBe(record.request_id);
        // The exact decimal the aggregates count, as the literal the SerDe reads: never disagree.
        expect(costText(line)).toBe(record.cost_usd ?? "null");
        if (record.status === "unpriced") unpriced++;
      });
      rows += written.length;
    });
    expect(unpriced).toBeGreaterThan(0);
    expect(stats).toMatchObject({ recordsIn: input.length, ok: input.length, usageRows: rows, unpricedRows: unpriced, invalidRecords: 0, processingFailed: 0 });
    expect(rows).toBe(goodItems.length);
    checkAccounting(stats);
  });

  it("sums the exact cost of the rows it writes", () => {
    // Prepare
    const input = goodData.map((data, index) => ({ recordId: `rec-${index}`, data }));
    const expected = goodData
      .flatMap(pricedByAggregatePath)
      .reduce((sum, record) => (record.cost_usd === null ? sum : sum + (parseUsd(record.cost_usd) as bigint)), 0n);

    // Act
    const { stats } = transformFirehoseRecords(input, pricer);

    // Assess
    expect(stats.costPico).toBe(expected);
    expect(stats.costPico).toBeGreaterThan(0n);
  });

  it("never writes prompt or response text", () => {
    // Prepare
    const texts = bodyTexts(goodItems);
    const input = goodData.map((data, index) => ({ recordId: `rec-${index}`, data }));

    // Act
    const { records } = transformFirehoseRecords(input, pricer);
    const written = records.map((record) => Buffer.from(record.data, "base64").toString("utf8")).join("");

    // Assess
    expect(texts.length).toBeGreaterThan(goodItems.length);
    expect(written).not.toContain("inputBodyJson");
    expect(written).not.toContain("outputBodyJson");
    for (const text of texts) expect(written).not.toContain(text);
  });

  it("sets partition keys from event_time and counts the rows of a payload across midnight UTC", () => {
    // Prepare: events from 23:59:59.5 on the last day of November: the payload straddles a day and a month.
    const across = items({ seed: 3, count: 60, start: "2026-11-30T23:59:59.500Z", ratePerSecond: 50 });
    const [payload] = payloads(across, 60);
    const newDay = across.filter((item) => item.kind === "record" && item.record.timestamp.startsWith("2026-12-01")).length;

    // Act
    const { records, stats } = transformFirehoseRecords([{ recordId: "r", data: encodeKinesisData(payload as SubscriptionPayload) }], pricer);

    // Assess
    const [output] = records;
    if (output?.result !== "Ok") throw new Error(`expected Ok, got ${output?.result}`);
    const first = JSON.parse(lines(output)[0] as string) as { event_time: string };
    expect(output.metadata.partitionKeys).toEqual({
      year: first.event_time.slice(0, 4),
      month: first.event_time.slice(5, 7),
      day: first.event_time.slice(8, 10),
    });
    expect(output.metadata.partitionKeys).toEqual({ year: "2026", month: "11", day: "30" });
    expect(newDay).toBeGreaterThan(0);
    expect(stats.crossPartitionRows).toBe(newDay);
    expect(lines(output)).toHaveLength(across.length);
  });

  it("gives every payload of a day's traffic the partition keys of its rows", () => {
    // Prepare
    const input = goodData.map((data, index) => ({ recordId: `rec-${index}`, data }));

    // Act
    const { records, stats } = transformFirehoseRecords(input, pricer);

    // Assess
    for (const output of records) {
      if (output.result !== "Ok") throw new Error("expected Ok");
      for (const line of lines(output)) {
        const time = (JSON.parse(line) as { event_time: string }).event_time;
        expect(output.metadata.partitionKeys).toEqual({ year: time.slice(0, 4), month: time.slice(5, 7), day: time.slice(8, 10) });
      }
    }
    expect(stats.crossPartitionRows).toBe(0);
  });

  it("writes the good records of a payload with malformed events and counts the invalid ones", () => {
    // Act
    const { records, stats } = transformFirehoseRecords([{ recordId: "mixed", data: SAMPLES.mixed.data }], pricer);

    // Assess
    const [output] = records;
    if (output?.result !== "Ok") throw new Error("expected Ok");
    const ids = lines(output).map((line) => (JSON.parse(line) as { request_id: string }).request_id);
    const goodIds = mixedItems.filter((item) => item.kind === "record").map((item) => (item.record as InvocationLogRecord).requestId);
    expect(ids).toEqual(goodIds);
    expect(stats).toMatchObject({ ok: 1, usageRows: 4, invalidRecords: 2, processingFailed: 0 });
  });

  it.each([
    ["a control message", "control"],
    ["the permissions line", "permissions"],
    ["a payload without events", "noEvents"],
  ] as const)("drops %s", (_label, kind) => {
    // Act
    const { records, stats } = transformFirehoseRecords([{ recordId: "r1", data: SAMPLES[kind].data }], pricer);

    // Assess
    expect(records).toEqual([{ recordId: "r1", result: "Dropped", data: "" }]);
    expect(stats).toMatchObject({ dropped: 1, usageRows: 0, invalidRecords: 0, failures: [] });
    expect(stats.skipped).toBe(kind === "noEvents" ? 0 : 1);
  });

  it.each([
    ["data that is not base64", "badBase64", "base64", ["data"]],
    ["gzip that does not inflate", "badGzip", "invalid", ["gzip"]],
    ["a truncated gzip stream", "truncatedGzip", "invalid", ["gzip"]],
    ["gzip of text that is not JSON", "notJson", "invalid", ["json"]],
    ["a truncated payload", "truncatedJson", "invalid", undefined],
    ["a payload of malformed events only", "malformedOnly", "invalid", undefined],
  ] as const)("fails %s, returning the data as received", (_label, kind, reason, fields) => {
    // Act
    const { records, stats } = transformFirehoseRecords([{ recordId: "r1", data: SAMPLES[kind].data }], pricer);

    // Assess
    expect(records).toEqual([{ recordId: "r1", result: "ProcessingFailed", data: SAMPLES[kind].data }]);
    expect(stats).toMatchObject({ processingFailed: 1, ok: 0, usageRows: 0, oversizeFailed: 0 });
    expect(stats.failures).toEqual([{ recordId: "r1", reason, fields: fields ?? expect.any(Array) }]);
    if (reason === "invalid") expect(stats.invalidRecords).toBeGreaterThan(0);
  });

  it("fails a payload whose usage record does not fit the lake columns, with its data as received", () => {
    // Prepare: a pricer that builds a cost a float would have made (the bug the lake format guards against).
    class FloatPricer extends Pricer {
      override price(log: Parameters<Pricer["price"]>[0]): PricedInvocation {
        const result = super.price(log);
        return { ...result, record: { ...result.record, cost_usd: String(Number(result.record.cost_usd ?? 0) / 1e6) } };
      }
    }
    const data = encodeKinesisData(payloads(goodItems.slice(0, 3))[0] as SubscriptionPayload);

    // Act
    const { records, stats } = transformFirehoseRecords([{ recordId: "r1", data }], new FloatPricer({ catalog: defaultCatalog() }));

    // Assess
    expect(records).toEqual([{ recordId: "r1", result: "ProcessingFailed", data }]);
    expect(stats.failures).toEqual([{ recordId: "r1", reason: "unencodable", fields: ["cost_usd"] }]);
  });

  it("fails, rather than writes, a record whose event time has no four-digit year", () => {
    // Prepare: a valid timestamp whose UTC instant is in the year 10000.
    const record = withTokens(invocationLog({ timestamp: "9999-12-31T23:30:00-14:00" }), { input: 1, output: 1 });
    const data = gzipSync(JSON.stringify({ messageType: "DATA_MESSAGE", logEvents: [{ id: "1", timestamp: 0, message: JSON.stringify(record) }] })).toString(
      "base64",
    );

    // Act
    const { records } = transformFirehoseRecords([{ recordId: "r1", data }], pricer);

    // Assess
    expect(records).toEqual([{ recordId: "r1", result: "ProcessingFailed", data }]);
  });

  it("answers an empty event with an empty response", () => {
    // Act
    const { records, stats } = transformFirehoseRecords([], pricer);

    // Assess
    expect(records).toEqual([]);
    expect(stats.responseBytes).toBe(responseBytes([]));
  });

  it("returns every recordId exactly once, in order, whatever the mix of records", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...SAMPLE_KINDS), fc.string({ minLength: 1, maxLength: 12 })), { maxLength: 25 }), (draws) => {
        // Prepare
        const input = draws.map(([kind, suffix], index) => ({ recordId: `${index}-${suffix}`, data: SAMPLES[kind].data }));

        // Act
        const { records, stats } = transformFirehoseRecords(input, pricer);

        // Assess
        expect(records.map((record) => record.recordId)).toEqual(input.map((record) => record.recordId));
        expect(records.map((record) => record.result)).toEqual(draws.map(([kind]) => SAMPLES[kind].result));
        records.forEach((record, index) => {
          if (record.result === "ProcessingFailed") expect(record.data).toBe(input[index]?.data);
        });
        expect(stats.responseBytes).toBe(responseBytes(records));
        expect(stats.oversizeFailed).toBe(0);
        checkAccounting(stats);
      }),
      { numRuns: 150 },
    );
  });

  it("answers with the same results as the Firehose contract requires: Ok carries partition keys, the others none", () => {
    // Prepare
    const input = SAMPLE_KINDS.map((kind) => ({ recordId: kind, data: SAMPLES[kind].data }));

    // Act
    const { records } = transformFirehoseRecords(input, pricer);

    // Assess
    for (const record of records) {
      expect(Object.keys(record)).toEqual(record.result === "Ok" ? ["recordId", "result", "data", "metadata"] : ["recordId", "result", "data"]);
      if (record.result === "Ok") expect(Object.keys(record.metadata.partitionKeys)).toEqual(PARTITION_COLUMN_NAMES);
    }
  });
});

describe("Function: transformFirehoseRecords() response-size guard", () => {
  const input: FirehoseInputRecord[] = [
    ...goodData.map((data, index) => ({ recordId: `good-${index}`, data })),
    { recordId: "control", data: SAMPLES.control.data },
    { recordId: "bad", data: SAMPLES.badGzip.data },
  ];
  const unlimited = transformFirehoseRecords(input, pricer, { maxResponseBytes: Number.MAX_SAFE_INTEGER });
  const asReceived = responseBytes(input.map((record) => ({ recordId: record.recordId, result: "ProcessingFailed", data: record.data })));

  it("keeps the response under a budget its results would exceed, failing the overflow with the original data", () => {
    // Prepare: room for about half of the results.
    const maxResponseBytes = Math.floor((unlimited.stats.responseBytes + asReceived) / 2);
    expect(unlimited.stats.responseBytes).toBeGreaterThan(maxResponseBytes);

    // Act
    const { records, stats } = transformFirehoseRecords(input, pricer, { maxResponseBytes });

    // Assess
    expect(responseBytes(records)).toBeLessThanOrEqual(maxResponseBytes);
    expect(stats.responseBytes).toBe(responseBytes(records));
    expect(records.map((record) => record.recordId)).toEqual(input.map((record) => record.recordId));
    const firstFailed = records.findIndex((record) => record.result === "ProcessingFailed");
    expect(firstFailed).toBeGreaterThan(0);
    expect(records.slice(0, firstFailed)).toEqual(unlimited.records.slice(0, firstFailed));
    records.slice(firstFailed).forEach((record, offset) => {
      expect(record).toEqual({ recordId: input[firstFailed + offset]?.recordId, result: "ProcessingFailed", data: input[firstFailed + offset]?.data });
    });
    expect(stats.oversizeFailed).toBe(input.length - firstFailed);
    expect(stats.failures.filter((failure) => failure.reason === "oversize").map((failure) => failure.recordId)).toEqual(
      input.slice(firstFailed).map((record) => record.recordId),
    );
    expect(stats.usageRows).toBe(unlimited.records.slice(0, firstFailed).reduce((sum, record) => sum + (record.result === "Ok" ? lines(record).length : 0), 0));
    checkAccounting(stats);
  });

  it("holds for any budget that can return the records as received", () => {
    fc.assert(
      fc.property(fc.integer({ min: asReceived, max: unlimited.stats.responseBytes + 10 }), (maxResponseBytes) => {
        // Act
        const { records, stats } = transformFirehoseRecords(input, pricer, { maxResponseBytes });

        // Assess
        expect(responseBytes(records)).toBeLessThanOrEqual(maxResponseBytes);
        const kept = records.length - stats.oversizeFailed;
        expect(records.slice(0, kept)).toEqual(unlimited.records.slice(0, kept));
        // The guard fails from an Ok result on; everything after it comes back as received.
        if (kept < records.length) expect(unlimited.records[kept]?.result).toBe("Ok");
        records.slice(kept).forEach((record, offset) => {
          expect(record).toEqual({ recordId: input[kept + offset]?.recordId, result: "ProcessingFailed", data: input[kept + offset]?.data });
        });
        checkAccounting(stats);
      }),
      { numRuns: 60 },
    );
  });

  it("fails a single record whose documents alone exceed the budget", () => {
    // Prepare
    const single = [{ recordId: "only", data: goodData[0] as string }];
    const maxResponseBytes = responseBytes([{ recordId: "only", result: "ProcessingFailed", data: goodData[0] as string }]);

    // Act
    const { records, stats } = transformFirehoseRecords(single, pricer, { maxResponseBytes: maxResponseBytes });

    // Assess: the documents of 25 events are larger than their gzipped payload.
    expect(unlimited.records[0]?.data.length).toBeGreaterThan((goodData[0] as string).length);
    expect(records).toEqual([{ recordId: "only", result: "ProcessingFailed", data: goodData[0] }]);
    expect(stats).toMatchObject({ oversizeFailed: 1, usageRows: 0, responseBytes: maxResponseBytes });
  });

  it("defaults to a budget under Lambda's 6 MiB response cap", () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    expect(LAMBDA_RESPONSE_LIMIT_BYTES).toBe(6 * 1024 * 1024);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses a budget of %s bytes", (maxResponseBytes) => {
    expect(() => transformFirehoseRecords(input, pricer, { maxResponseBytes })).toThrow(RangeError);
  });
});

describe("Function: transformFirehoseRecords(): bytes", () => {
  /** Builds usage records whose strings need every kind of escaping, as a pricer could. */
  class AwkwardPricer extends Pricer {
    private calls = 0;
    override price(log: Parameters<Pricer["price"]>[0]): PricedInvocation {
      const result = super.price(log);
      const texts = [
        'quote " and \\ backslash',
        "tab\tnew\nline\u0001",
        "é ü 日本",
        "emoji 😀",
        "lone \ud800 surrogate",
        "</script>",
        "",
        // Long enough for the native copy, with and without something to escape or encode.
        "plain text long enough to be copied natively",
        'a quote " after more than twenty-four characters',
        "a tab\tafter more than twenty-four characters",
        "é after more than twenty-four characters here",
        "a lone \udc00 surrogate after twenty-four characters",
        "DEL \u007f is ASCII and JSON leaves it as it is",
      ];
      const text = texts[this.calls++ % texts.length] as string;
      return {
        ...result,
        record: {
          ...result.record,
          tenant_id: text,
          user_id: null,
          principal_arn: `${text}-arn`,
          metadata: JSON.parse(`{"__proto__":"p","k${this.calls}":${JSON.stringify(text)},"plain":"v"}`) as Record<string, string>,
        },
      };
    }
  }

  it("writes exactly the bytes of the joined lake lines, whatever the strings hold", () => {
    // Prepare
    const messages = Array.from({ length: 39 }, (_, index) => JSON.stringify(invocationLog({ requestId: `r-${index}` })));
    const data = gzipSync(JSON.stringify(subscriptionPayload(messages))).toString("base64");
    const pricer = new AwkwardPricer({ catalog: defaultCatalog() });
    const reference = new AwkwardPricer({ catalog: defaultCatalog() });
    const expected = messages.map((message) => {
      const parsed = parseInvocationLog(JSON.parse(message));
      if (!parsed.ok) throw new Error("factory record is invalid");
      return referenceLakeLine(reference.price(parsed.log).record);
    });

    // Act
    const { records } = transformFirehoseRecords([{ recordId: "r1", data }], pricer);

    // Assess
    const output = records[0];
    expect(output?.result).toBe("Ok");
    expect(Buffer.from(output?.data ?? "", "base64").equals(Buffer.from(expected.join(""), "utf8"))).toBe(true);
  });
});
