/**
 * The lake redrive's target on AWS (`FirehoseRedriveTarget`): raw failures put on the Direct PUT
 * delivery stream with PutRecordBatch. Firehose has no local implementation, so the contract is
 * tested against the API's response shapes: `FailedPutCount`, and `RequestResponses` in the
 * order of the records sent, each with a `RecordId` when accepted or an `ErrorCode` and
 * `ErrorMessage` (e.g. `ServiceUnavailableException`) when not.
 */
import { FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandInput, type PutRecordBatchResponseEntry } from "@aws-sdk/client-firehose";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FIREHOSE_BATCH_BYTES, FIREHOSE_BATCH_RECORDS, FIREHOSE_RECORD_BYTES, FirehoseRedriveTarget } from "../src/firehose-redrive";
import type { RawLakeFailure } from "../src/raw-failures";

const STREAM = "bedrock-spend-test-lake-redrive";
const UNAVAILABLE: PutRecordBatchResponseEntry = { ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down." };
const INTERNAL: PutRecordBatchResponseEntry = { ErrorCode: "InternalFailure", ErrorMessage: "An internal error occurred." };

const firehose = mockClient(FirehoseClient);

/** A raw failure whose record is these bytes. */
function failure(recordId: string, bytes: Buffer): RawLakeFailure {
  return { recordId, data: bytes.toString("base64"), reason: "invalid", fields: ["json"], failedAt: "2026-11-27T10:00:06.000Z" };
}

/** `count` failures of `size` bytes each, every byte of record i equal to i mod 256. */
function failures(count: number, size: number): RawLakeFailure[] {
  return Array.from({ length: count }, (_, index) => failure(`r-${index}`, Buffer.alloc(size, index % 256)));
}

/** The response Firehose gives a call, `entry(index)` undefined for an accepted record. */
function response(input: PutRecordBatchCommandInput, entry: (index: number) => PutRecordBatchResponseEntry | undefined = () => undefined) {
  const entries = (input.Records ?? []).map((_, index) => entry(index) ?? { RecordId: `Rc0${String(index).padStart(4, "0")}Cz9xQdE5mYkz3vK1uJ+Jr2aT8W0n` });
  return { FailedPutCount: entries.filter((item) => item.ErrorCode).length, Encrypted: false, RequestResponses: entries };
}

/** The records (as bytes) of each PutRecordBatch call, in order. */
function sent(): Buffer[][] {
  return firehose.commandCalls(PutRecordBatchCommand).map((call) => (call.args[0].input.Records ?? []).map((record) => Buffer.from(record.Data as Uint8Array)));
}

function target(options: { maxAttempts?: number; sleep?: (ms: number) => Promise<void>; random?: () => number } = {}) {
  return new FirehoseRedriveTarget({ firehose: new FirehoseClient({ region: "us-east-1" }), deliveryStreamName: STREAM, ...options });
}

beforeEach(() => {
  firehose.reset();
});

describe("Class: FirehoseRedriveTarget (contract with Firehose PutRecordBatch)", () => {
  it("sends at most 500 records a call, in order, to the delivery stream it was given", async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).callsFake((input) => response(input));
    const records = failures(2 * FIREHOSE_BATCH_RECORDS + 1, 10);

    // Act
    await target().send(records);

    // Assess
    const calls = sent();
    expect(calls.map((call) => call.length)).toEqual([FIREHOSE_BATCH_RECORDS, FIREHOSE_BATCH_RECORDS, 1]);
    expect(calls.flat().map((bytes) => bytes[0])).toEqual(records.map((_, index) => index % 256));
    expect(firehose.commandCalls(PutRecordBatchCommand).every((call) => call.args[0].input.DeliveryStreamName === STREAM)).toBe(true);
  });

  it("sends at most 4 MiB a call: records that fill 4 MiB exactly go together, one byte more starts another call", async () => {
    // Prepare: four records at the 1,000 KiB limit and one that makes exactly 4 MiB
    firehose.on(PutRecordBatchCommand).callsFake((input) => response(input));
    const rest = FIREHOSE_BATCH_BYTES - 4 * FIREHOSE_RECORD_BYTES;
    const exact = [...failures(4, FIREHOSE_RECORD_BYTES), failure("r-last", Buffer.alloc(rest, 7))];
    const over = [...failures(4, FIREHOSE_RECORD_BYTES), failure("r-last", Buffer.alloc(rest + 1, 7)), ...failures(5, FIREHOSE_RECORD_BYTES)];

    // Act
    await target().send(exact);
    const exactCalls = sent().map((call) => call.reduce((sum, bytes) => sum + bytes.length, 0));
    firehose.resetHistory();
    await target().send(over);

    // Assess
    expect(exactCalls).toEqual([FIREHOSE_BATCH_BYTES]);
    expect(sent().map((call) => call.length)).toEqual([4, 4, 2]);
    for (const call of sent()) expect(call.reduce((sum, bytes) => sum + bytes.length, 0)).toBeLessThanOrEqual(FIREHOSE_BATCH_BYTES);
  });

  it("sends the exact bytes of each record: its data base64-decoded (gzip, not text)", async () => {
    // Prepare: bytes that are not UTF-8, as a gzipped payload's are
    firehose.on(PutRecordBatchCommand).callsFake((input) => response(input));
    const bytes = [Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x80, 0x00]), Buffer.from("{}\n"), Buffer.alloc(0)];

    // Act
    await target().send(bytes.map((data, index) => failure(`r-${index}`, data)));

    // Assess
    expect(sent()).toEqual([bytes]);
  });

  it("sends nothing for no failures", async () => {
    // Act
    await target().send([]);

    // Assess
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it("re-sends only the entries a partial failure left, in order, after a full-jitter backoff", async () => {
    // Prepare: the first call loses records 1 and 4, the second loses record 4 again
    const lost = new Map([
      [1, UNAVAILABLE],
      [4, INTERNAL],
    ]);
    const answers = [(index: number) => lost.get(index), (index: number) => (index === 1 ? UNAVAILABLE : undefined), () => undefined];
    let call = 0;
    firehose.on(PutRecordBatchCommand).callsFake((input) => response(input, answers[call++]));
    const sleep = vi.fn(async (_ms: number) => undefined);
    const records = failures(6, 3);

    // Act
    await target({ sleep, random: () => 0.5 }).send(records);

    // Assess
    expect(sent().map((batch) => batch.map((bytes) => bytes[0]))).toEqual([[0, 1, 2, 3, 4, 5], [1, 4], [4]]);
    expect(sleep.mock.calls.map(([ms]) => ms)).toEqual([50, 100]);
  });

  it("gives up after maxAttempts calls, naming the records left, the records of the last call and the error codes", async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).callsFake((input) => response(input, (index) => (index === 0 ? UNAVAILABLE : index === 2 ? INTERNAL : undefined)));
    const sleep = vi.fn(async (_ms: number) => undefined);

    // Act
    const once = await target({ maxAttempts: 1, sleep })
      .send(failures(3, 4))
      .catch((error: unknown) => error);
    firehose.resetHistory();
    const thrice = await target({ maxAttempts: 3, sleep, random: () => 1 })
      .send(failures(3, 4))
      .catch((error: unknown) => error);

    // Assess
    expect((once as Error).message).toBe(`2 of 3 records not accepted by ${STREAM} after 1 calls (ServiceUnavailableException, InternalFailure)`);
    // Records 0 and 2 are left after the first call; of those, record 0 (now first) fails every time.
    expect(sent().map((batch) => batch.map((bytes) => bytes[0]))).toEqual([[0, 1, 2], [0, 2], [0]]);
    expect((thrice as Error).message).toBe(`1 of 1 records not accepted by ${STREAM} after 3 calls (ServiceUnavailableException)`);
    expect(sleep.mock.calls.map(([ms]) => ms)).toEqual([100, 200]);
  });

  it("refuses a record over 1,000 KiB before sending anything, naming it and its size", async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).callsFake((input) => response(input));
    const records = [...failures(2, 10), failure("r-big", Buffer.alloc(FIREHOSE_RECORD_BYTES + 1))];

    // Act
    const error = await target()
      .send(records)
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain(
      `record r-big is ${FIREHOSE_RECORD_BYTES + 1} bytes, over Firehose's ${FIREHOSE_RECORD_BYTES}-byte record limit`,
    );
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it("stops at once on a response that counts failures without naming them, instead of sending empty calls", async () => {
    // Prepare: FailedPutCount without RequestResponses (the API always answers one entry per record; this guards the loop)
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 1 });

    // Act
    const error = await target()
      .send(failures(2, 10))
      .catch((caught: unknown) => caught);

    // Assess
    expect((error as Error).message).toBe(`${STREAM} reported 1 failed records without saying which (0 entries for 2 records)`);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(1);
  });
});
