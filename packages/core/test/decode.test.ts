import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBytes, decodeStream, decodeText } from "../src/decode/decode";
import type { DecodedItem } from "../src/decode/items";
import { chunked, collect, invocationLog, kinesisData, subscriptionPayload } from "./helpers/factories";

const record = (requestId: string) => invocationLog({ requestId });
const kinds = (items: DecodedItem[]) =>
  items.map((item) =>
    item.kind === "record"
      ? `record:${(item.value as { requestId: string }).requestId}`
      : item.kind === "skipped"
        ? `skipped:${item.skip}`
        : `invalid:${item.field}`,
  );

describe("Function: decodeText()", () => {
  it("reads JSON Lines records with their line numbers", () => {
    const items = decodeText(`${JSON.stringify(record("a"))}\n${JSON.stringify(record("b"))}\n`, { file: "x.jsonl" });
    expect(kinds(items)).toEqual(["record:a", "record:b"]);
    expect(items[1]?.source).toEqual({ file: "x.jsonl", line: 2 });
  });

  it("unpacks a subscription payload and skips the permissions line inside it", () => {
    // Prepare
    const payload = subscriptionPayload([JSON.stringify(record("a")), "Permissions are correctly set for Amazon Bedrock logs.", JSON.stringify(record("b"))]);

    // Act
    const items = decodeText(JSON.stringify(payload));

    // Assess
    expect(kinds(items)).toEqual(["record:a", "skipped:permissions-line", "record:b"]);
    expect(items[2]?.source.index).toBe(2);
    expect(items[2]?.source.eventId).toMatch(/^\d{56}$/);
    expect(items[0]).toMatchObject({ eventTimestamp: 1_795_000_000_000 });
  });

  it("skips a control message as one item", () => {
    const payload = subscriptionPayload(["CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."], "CONTROL_MESSAGE");
    expect(kinds(decodeText(JSON.stringify(payload)))).toEqual(["skipped:control-message"]);
  });

  it("decodes base64-of-gzip subscription payloads, one per line", () => {
    const lines = [kinesisData(subscriptionPayload([JSON.stringify(record("a"))])), kinesisData(subscriptionPayload([JSON.stringify(record("b"))]))];
    expect(kinds(decodeText(lines.join("\n")))).toEqual(["record:a", "record:b"]);
  });

  it("reads filter-log-events output, pretty-printed", () => {
    const output = {
      events: [{ logStreamName: "aws/bedrock/modelinvocations", timestamp: 1, message: JSON.stringify(record("a")), ingestionTime: 2, eventId: "e1" }],
      searchedLogStreams: [],
    };
    const items = decodeText(JSON.stringify(output, null, 4));
    expect(kinds(items)).toEqual(["record:a"]);
    expect(items[0]?.source.eventId).toBe("e1");
  });

  it("reads a pretty-printed single record and a JSON array of records", () => {
    expect(kinds(decodeText(JSON.stringify(record("a"), null, 2)))).toEqual(["record:a"]);
    expect(kinds(decodeText(JSON.stringify([record("a"), record("b")], null, 2)))).toEqual(["record:a", "record:b"]);
  });

  it("reads a Lambda awslogs event and a Kinesis event", () => {
    const data = kinesisData(subscriptionPayload([JSON.stringify(record("a"))]));
    expect(kinds(decodeText(JSON.stringify({ awslogs: { data } })))).toEqual(["record:a"]);
    expect(kinds(decodeText(JSON.stringify({ Records: [{ kinesis: { data } }, { kinesis: { data } }] })))).toEqual(["record:a", "record:a"]);
  });

  it.each([
    ["a bad base64 line", "SGVsbG8gV29ybGQ", "base64"],
    ["base64 of neither gzip nor JSON", Buffer.from("hello world, not json").toString("base64"), "base64"],
    ["base64 of corrupt gzip", Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from("garbage!")]).toString("base64"), "gzip"],
    ["a non-JSON line", "ERROR something happened", "json"],
    ["a JSON scalar", "42", "record"],
    ["JSON null", "null", "record"],
    ["invalid JSON", '{"a":tru}', "json"],
    ["logEvents that is not an array", JSON.stringify({ messageType: "DATA_MESSAGE", logEvents: {} }), "logEvents"],
    ["an unknown messageType", JSON.stringify({ messageType: "NOPE", logEvents: [] }), "messageType"],
    [
      "a log event message that is not a string",
      JSON.stringify(subscriptionPayload([]).logEvents ? { messageType: "DATA_MESSAGE", logEvents: [{ id: "1", timestamp: 1, message: 5 }] } : {}),
      "logEvents[0].message",
    ],
  ])("marks %s invalid with field %s", (_, text, field) => {
    const items = decodeText(text);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: "invalid", field });
    expect((items[0] as { raw: string }).raw.length).toBeGreaterThan(0);
  });

  it("refuses a record above the size limit and keeps a clipped raw copy", () => {
    const big = JSON.stringify(invocationLog({ padding: "x".repeat(200_000) }));
    const [item] = decodeText(big, { maxRecordChars: 100_000 });
    expect(item).toMatchObject({ kind: "invalid", field: "record" });
    expect((item as { raw: string }).raw.length).toBeLessThan(70_000);
  });
});

describe("Function: decodeStream()", () => {
  it("inflates a gzip file streamed in tiny chunks", async () => {
    const text = [record("a"), record("b"), record("c")].map((value) => JSON.stringify(value)).join("\n");
    const items = await collect(decodeStream(chunked(gzipSync(Buffer.from(text)), [3, 17, 64]), { file: "f.json.gz" }));
    expect(kinds(items)).toEqual(["record:a", "record:b", "record:c"]);
  });

  it("reads multi-member gzip (concatenated .gz files)", async () => {
    const bytes = Buffer.concat([gzipSync(`${JSON.stringify(record("a"))}\n`), gzipSync(`${JSON.stringify(record("b"))}\n`)]);
    expect(kinds(await collect(decodeStream(chunked(bytes, [100]))))).toEqual(["record:a", "record:b"]);
  });

  it("keeps the records before a gzip truncation and reports the truncation once", async () => {
    // Prepare
    // Varied content, so that the compressed stream is long and inflates progressively
    const text = Array.from({ length: 400 }, (_, i) =>
      JSON.stringify(invocationLog({ requestId: `r${i}`, note: (i * 7919).toString(36).repeat(i % 13) })),
    ).join("\n");
    const gz = gzipSync(Buffer.from(text));
    const truncated = gz.subarray(0, Math.floor(gz.length * 0.6));

    // Act
    const items = await collect(decodeStream(chunked(truncated, [256]), { file: "cut.json.gz" }));

    // Assess
    const invalid = items.filter((item) => item.kind === "invalid");
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ field: "gzip", source: { file: "cut.json.gz" } });
    expect(items.at(-1)).toBe(invalid[0]);
    expect(items.filter((item) => item.kind === "record").length).toBeGreaterThan(5);
  });

  it("decodes a UTF-8 character split across chunks", async () => {
    const text = JSON.stringify(invocationLog({ requestId: "a", note: "naïve café ✓" }));
    const items = await collect(decodeStream(chunked(Buffer.from(text), [1])));
    expect((items[0] as { value: { note: string } }).value.note).toBe("naïve café ✓");
  });

  it("yields nothing for an empty input", async () => {
    expect(await collect(decodeStream(chunked(new Uint8Array(0))))).toEqual([]);
    expect(await collect(decodeStream(chunked(Buffer.from(" \n\t\n"))))).toEqual([]);
  });

  it("never throws and never loses a non-blank line on arbitrary bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (bytes, gzip) => {
        const input = gzip ? gzipSync(bytes).subarray(0, Math.max(2, bytes.length % 40)) : bytes;
        const items = await collect(decodeStream(chunked(input, [5, 11])));
        for (const item of items) expect(["record", "skipped", "invalid"]).toContain(item.kind);
      }),
      { numRuns: 300 },
    );
  });
});

describe("Function: decodeBytes()", () => {
  it("decodes a Kinesis record's data the same way as the stream decoder", async () => {
    const bytes = Buffer.from(kinesisData(subscriptionPayload([JSON.stringify(record("a")), JSON.stringify(record("b"))])), "base64");
    const sync = decodeBytes(bytes);
    const streamed = await collect(decodeStream(chunked(bytes, [9])));
    expect(kinds(sync)).toEqual(["record:a", "record:b"]);
    expect(sync).toEqual(streamed);
  });

  it("reports gzip that does not inflate", () => {
    expect(decodeBytes(Buffer.from([0x1f, 0x8b, 1, 2, 3]))).toMatchObject([{ kind: "invalid", field: "gzip" }]);
  });
});
