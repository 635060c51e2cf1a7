/**
 * The lake document codec: what the writer writes for a usage record (columns, exact cost,
 * timestamps, escaping), byte for byte as a string-building reference, and what the decoder reads
 * back (the same record, the exact cost, every value checked).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultCatalog } from "../src/defaults";
import { parseInvocationLog } from "../src/invocation";
import { decodeLakeDocuments, LakeDecodingError, LakeDocumentWriter, LakeEncodingError, lakePartitionKeys } from "../src/lake-document";
import { type PricedInvocation, Pricer } from "../src/pricer";
import { USAGE_COLUMNS, type UsageRecord } from "../src/usage";
import { invocationLog } from "./helpers/factories";
import { referenceLakeLine } from "./helpers/reference-lake-line";

const pricer = new Pricer({ catalog: defaultCatalog() });

/** The document columns, derived from the single definition: every column that is not a partition column. */
const DATA_COLUMN_NAMES = USAGE_COLUMNS.filter((column) => !("partition" in column && column.partition)).map((column) => column.name);
const PARTITION_COLUMN_NAMES = USAGE_COLUMNS.filter((column) => "partition" in column && column.partition).map((column) => column.name);

function priced(record: Record<string, unknown>): PricedInvocation {
  const parsed = parseInvocationLog(record);
  if (!parsed.ok) throw new Error(parsed.reason);
  return pricer.price(parsed.log);
}

/** One record as the writer writes it. */
function toLakeLine(record: UsageRecord): string {
  const writer = new LakeDocumentWriter();
  writer.append(record);
  return Buffer.from(writer.bytesView()).toString("utf8");
}

/** The exact text of the cost_usd value in a lake line (null or the number literal). */
function costText(line: string): string | undefined {
  return /"cost_usd":(null|[^,}]+)[,}]/.exec(line)?.[1];
}

describe("Class: LakeDocumentWriter", () => {
  it("writes exactly the data columns of USAGE_COLUMNS, in lake order, as one newline-terminated document", () => {
    // Prepare
    const { record } = priced(invocationLog());

    // Act
    const line = toLakeLine(record);

    // Assess
    expect(line.endsWith("\n")).toBe(true);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    const document = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual(DATA_COLUMN_NAMES);
    for (const name of PARTITION_COLUMN_NAMES) expect(document).not.toHaveProperty(name);
    const values = record as unknown as Record<string, unknown>;
    // Decimals (cost_usd and the per-class costs) are bare number literals, checked as text elsewhere.
    const decimals = new Set<string>(USAGE_COLUMNS.filter((column) => column.type === "decimal").map((column) => column.name));
    for (const name of DATA_COLUMN_NAMES.filter((column) => !decimals.has(column))) expect(document[name]).toEqual(values[name]);
  });

  it.each([
    ["the shipped-catalog cost", "0.000320"],
    ["one pico-dollar", "0.000000000001"],
    ["a cost a float cannot hold", "12345678901234567890123.123456789012"],
    ["a whole number", "7"],
  ])("copies %s as a bare number literal, digit for digit", (_label, cost) => {
    // Prepare
    const record: UsageRecord = { ...priced(invocationLog()).record, cost_usd: cost };

    // Act
    const line = toLakeLine(record);

    // Assess
    expect(costText(line)).toBe(cost);
    expect(line).toContain(`"cost_usd":${cost},`);
  });

  it("writes nulls as null: an unpriced record has a null cost and a reason", () => {
    // Prepare
    const { record } = priced(invocationLog({ modelId: "openai.gpt-oss-999b-1:0", requestMetadata: undefined }));

    // Act
    const document = JSON.parse(toLakeLine(record)) as Record<string, unknown>;

    // Assess
    expect(record.status).toBe("unpriced");
    expect(costText(toLakeLine(record))).toBe("null");
    expect(document).toMatchObject({ cost_usd: null, status: "unpriced", user_id: null, tenant_id: "unattributed", metadata: {} });
    expect(document.reason).toEqual(expect.any(String));
  });

  it("writes event_time in the OpenX timestamp format, with the milliseconds when there are some", () => {
    // Prepare
    const whole = priced(invocationLog({ timestamp: "2026-11-27T10:00:00Z" })).record;
    const fraction = priced(invocationLog({ timestamp: "2026-11-27T11:00:00.250+01:00" })).record;

    // Act
    const times = [whole, fraction].map((record) => (JSON.parse(toLakeLine(record)) as { event_time: string }).event_time);

    // Assess
    expect(times).toEqual(["2026-11-27T10:00:00Z", "2026-11-27T10:00:00.250Z"]);
    for (const time of times) expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
  });

  it("writes metadata as a map of strings and keeps escaped text on one line", () => {
    // Prepare: Bedrock's metadata alphabet admits ASCII whitespace, newlines included.
    const metadata = { tenantId: "acme", note: "line one\n\tline two, #3 @x", "a:b": "x=y/z" };
    const { record } = priced(invocationLog({ requestMetadata: metadata }));
    const quoted: UsageRecord = { ...record, principal_arn: 'a "quoted" \\ path\u2028' };

    // Act
    const line = toLakeLine(quoted);

    // Assess
    expect(line.indexOf("\n")).toBe(line.length - 1);
    expect(JSON.parse(line)).toMatchObject({ metadata, principal_arn: quoted.principal_arn });
  });

  it.each([
    ["cost_usd", { cost_usd: "1e-7" }],
    ["cost_usd", { cost_usd: "0.0000000000001" }],
    ["cost_usd", { cost_usd: "-1.5" }],
    ["event_time", { event_time: "+010000-01-01T00:00:00Z" }],
    ["event_time", { event_time: "2026-11-27 10:00:00" }],
    ["input_tokens", { input_tokens: 1.5 }],
    ["tenant_id", { tenant_id: null }],
    ["metadata", { metadata: { tenantId: 7 } }],
  ])("refuses a value that does not fit column %s", (column, change) => {
    // Prepare
    const record = { ...priced(invocationLog()).record, ...change } as unknown as UsageRecord;

    // Act
    const act = () => toLakeLine(record);

    // Assess
    expect(act).toThrow(LakeEncodingError);
    expect(act).toThrow(expect.objectContaining({ column, requestId: record.request_id }));
  });
});

describe("Class: LakeDocumentWriter: bytes", () => {
  const awkward = [
    'quote " and \\ backslash',
    "tab\tnew\nline\u0001",
    "é ü 日本",
    "emoji 😀",
    "lone \ud800 surrogate",
    "</script>",
    "",
    "plain text long enough to be copied natively",
    'a quote " after more than twenty-four characters',
    "a tab\tafter more than twenty-four characters",
    "é after more than twenty-four characters here",
    "a lone \udc00 surrogate after twenty-four characters",
    "DEL \u007f is ASCII and JSON leaves it as it is",
  ];

  it("writes exactly the bytes of the string-building reference, whatever the strings hold, and resets between output records", () => {
    // Prepare
    const base = priced(invocationLog()).record;
    const records = awkward.map((text, index) => ({
      ...base,
      request_id: `r-${index}`,
      tenant_id: text,
      principal_arn: `${text}-arn`,
      metadata: JSON.parse(`{"__proto__":"p","k${index}":${JSON.stringify(text)},"plain":"v"}`) as Record<string, string>,
    }));
    const writer = new LakeDocumentWriter();

    // Act
    writer.append(base);
    writer.reset();
    for (const record of records) writer.append(record);

    // Assess
    expect(Buffer.from(writer.bytesView()).equals(Buffer.from(records.map(referenceLakeLine).join(""), "utf8"))).toBe(true);
    expect(writer.base64()).toBe(Buffer.from(records.map(referenceLakeLine).join(""), "utf8").toString("base64"));
  });

  it("keeps the documents written before a record that does not fit", () => {
    // Prepare
    const good = priced(invocationLog()).record;
    const writer = new LakeDocumentWriter();
    writer.append(good);

    // Act
    const act = () => writer.append({ ...good, cost_usd: "-1" });

    // Assess
    expect(act).toThrow(LakeEncodingError);
    expect(Buffer.from(writer.bytesView()).toString("utf8")).toBe(referenceLakeLine(good));
  });
});

describe("Function: decodeLakeDocuments()", () => {
  const text = fc.string({
    unit: fc.oneof(fc.constantFrom('"', "\\", "\n", "é", "😀", ",", ":", "{", "}"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })),
    maxLength: 12,
  });
  const cost = fc.oneof(
    fc.constant(null),
    fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 26n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 12n - 1n }))
      .map(([whole, fraction]) => `${whole}.${String(fraction).padStart(12, "0")}`),
    fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
  );

  it("reads back what the writer wrote, the cost digit for digit, the partition columns from the keys", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, cost, fc.dictionary(text, text, { maxKeys: 4 })), { minLength: 1, maxLength: 5 }), (rows) => {
        // Prepare: strings that need escaping, costs beyond a double's precision, a metadata key named cost_usd
        const base = priced(invocationLog()).record;
        const records: UsageRecord[] = rows.map(([tenant, costUsd, metadata], index) => ({
          ...base,
          request_id: `r-${index}`,
          tenant_id: tenant,
          cost_usd: costUsd,
          status: costUsd === null ? "unpriced" : "priced",
          metadata: { ...metadata, cost_usd: "7" },
        }));
        const writer = new LakeDocumentWriter();
        for (const record of records) writer.append(record);

        // Act
        const decoded = decodeLakeDocuments(writer.bytesView(), lakePartitionKeys(base));

        // Assess
        expect(decoded).toEqual(records);
      }),
      { numRuns: 300 },
    );
  });

  it("names the document that is not JSON, the column that does not fit, and a missing partition key", () => {
    // Prepare
    const good = toLakeLine(priced(invocationLog()).record);
    const keys = { year: "2026", month: "11", day: "27" };

    // Act
    const notJson = () => decodeLakeDocuments(`${good}{"request_id":\n`, keys);
    const badColumn = () => decodeLakeDocuments(good.replace(/"input_tokens":\d+/, '"input_tokens":-3'), keys);
    const noKey = () => decodeLakeDocuments(good, { year: "2026", month: "11" });

    // Assess
    expect(notJson).toThrow(LakeDecodingError);
    expect(notJson).toThrow(/lake document 2: is not JSON/);
    expect(badColumn).toThrow(expect.objectContaining({ name: "LakeEncodingError", column: "input_tokens" }));
    expect(noKey).toThrow(/lake document 1: has no partition key day/);
  });

  it("names where a document stops being JSON, never its text (V8's message quotes it)", () => {
    // Act
    const error = (() => {
      try {
        decodeLakeDocuments("summarize the biopsy of Jane Roe\n", { year: "2026", month: "11", day: "27" });
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    const cut = () => decodeLakeDocuments('{"request_id":"r1",Jane Roe}\n', { year: "2026", month: "11", day: "27" });

    // Assess
    expect(error?.message).toBe("lake document 1: is not JSON");
    expect(error?.cause).toBeUndefined();
    expect(cut).toThrow("lake document 1: is not JSON (error at position 19)");
  });
});

describe("Lake documents under Firehose's case-sensitive OpenX JSON SerDe (stacks/Lake.ts)", () => {
  it("name every column exactly as the Glue table does, and keep the case of metadata keys", () => {
    // Prepare: metadata keys in camelCase, as callers send them.
    const { record } = priced(invocationLog({ requestMetadata: { tenantId: "acme", costCenter: "CC-7", ProjectCode: "Apollo" } }));

    // Act
    const document = JSON.parse(toLakeLine(record)) as Record<string, unknown>;

    // Assess: top-level keys are the data columns' names (all lowercase: nothing for a case-insensitive SerDe to fold).
    const dataColumns = USAGE_COLUMNS.filter((column) => !("partition" in column && column.partition)).map((column) => column.name);
    expect(Object.keys(document).sort()).toStrictEqual([...dataColumns].sort());
    expect(dataColumns.every((name) => name === name.toLowerCase())).toBe(true);
    expect(document.metadata).toMatchObject({ tenantId: "acme", costCenter: "CC-7", ProjectCode: "Apollo" });
  });
});
