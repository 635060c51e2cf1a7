/**
 * Entry points of input decoding: a byte stream (a file of any size, in flat memory) or a byte
 * buffer (a Kinesis or Firehose record). Format is detected by content: gzip by its magic number,
 * then JSON Lines, documents, arrays, envelopes and base64 by the segmenter and the classifier.
 */
import { createGunzip } from "node:zlib";
import { type ClassifyOptions, classifyParsedSegment, classifySegment, collapseInvalidItems } from "./classify";
import { type InflationBudget, inflateWithin, inflationBudget } from "./inflate";
import type { DecodedItem, SourceRef } from "./items";
import { DEFAULT_MAX_DEPTH, JsonSegmenter, type Segment, type SegmenterOptions } from "./segmenter";

/** Options of the decoders. */
export interface DecodeOptions extends SegmenterOptions, ClassifyOptions {
  /** Label of the input used in every `SourceRef` (a file path). */
  file?: string;
  /**
   * Most bytes `decodeStream` inflates a gzip stream (a `.gz` file) to. Default
   * `DEFAULT_MAX_STREAM_INFLATED_BYTES` (64 GiB). Past it the stream stops with one `invalid`
   * item (field `gzip`). The gzip payloads inside such a file are bounded by `maxInflatedBytes`
   * and `maxTotalInflatedBytes`, per top-level value or line.
   */
  maxStreamInflatedBytes?: number;
}

/**
 * Default `maxStreamInflatedBytes`: 64 GiB. A gzip stream is inflated chunk by chunk and
 * segmented in flat memory, so its size costs time, not memory; the limit stops a file that would
 * inflate for minutes on end (1 KB of gzip can inflate to 1 MB), far above any log file: a month
 * of a busy account's invocation logs is a few GB.
 */
export const DEFAULT_MAX_STREAM_INFLATED_BYTES = 64 * 1024 * 1024 * 1024;

/** The inflated gzip stream passed `maxStreamInflatedBytes`. */
class StreamInflationLimitError extends Error {
  constructor(readonly limit: number) {
    super(`gzip stream inflates to more than ${limit} bytes, the limit on one stream (maxStreamInflatedBytes)`);
    this.name = "StreamInflationLimitError";
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decodes a stream of bytes into items, lazily. Memory stays proportional to the largest single
 * record, whatever the size of the input. Never throws on bad input: a corrupt or truncated gzip
 * stream ends the items with one `invalid` item (field `gzip`) that carries the partial text.
 */
export async function* decodeStream(source: AsyncIterable<Uint8Array>, options: DecodeOptions = {}): AsyncGenerator<DecodedItem> {
  const file = options.file;
  const segmenter = new JsonSegmenter(options);
  const decoder = new TextDecoder("utf-8");
  const iterator = source[Symbol.asyncIterator]();

  const first = await iterator.next();
  if (first.done) return;
  let inflated = 0;
  const all = remaining(first.value, iterator);
  const gzipped = isGzip(first.value);
  const limit = Math.max(1, Math.floor(options.maxStreamInflatedBytes ?? DEFAULT_MAX_STREAM_INFLATED_BYTES));
  const chunks = gzipped
    ? inflate(all, (bytes) => {
        inflated += bytes;
        if (inflated > limit) throw new StreamInflationLimitError(limit);
      })
    : all;

  try {
    for await (const chunk of chunks) {
      const text = decoder.decode(chunk, { stream: true });
      for (const segment of segmenter.push(text)) yield* classifySegment(segment, file, options, inflationBudget(options));
    }
  } catch (error) {
    const pending = segmenter.abort();
    const source: SourceRef = {};
    if (file !== undefined) source.file = file;
    if (pending) source.line = pending.line;
    const what = gzipped ? "gzip" : "input";
    yield {
      kind: "invalid",
      field: gzipped ? "gzip" : "input",
      reason:
        error instanceof StreamInflationLimitError
          ? `${error.message}; decoding stopped there`
          : `${what} stream is truncated or corrupt after ${inflated} decompressed bytes: ${(error as Error).message}`,
      raw: pending?.text ?? "",
      source,
    };
    return;
  }
  const tail = decoder.decode();
  const segments = tail.length > 0 ? [...segmenter.push(tail), ...segmenter.end()] : segmenter.end();
  for (const segment of segments) yield* classifySegment(segment, file, options, inflationBudget(options));
}

async function* remaining(first: Uint8Array, iterator: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Streams gzip inflation; multi-member gzip files (concatenated .gz) inflate whole. `onBytes` may
 * throw to stop: the inflation is destroyed and the source closed.
 */
async function* inflate(source: AsyncIterable<Uint8Array>, onBytes: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  const gunzip = createGunzip();
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        if (gunzip.destroyed) break;
        if (!gunzip.write(chunk)) {
          // A destroyed stream never drains: its close ends the wait too.
          await new Promise<void>((resolve) => {
            const done = () => {
              gunzip.off("drain", done);
              gunzip.off("close", done);
              resolve();
            };
            gunzip.on("drain", done);
            gunzip.on("close", done);
          });
        }
      }
      if (!gunzip.destroyed) gunzip.end();
    } catch (error) {
      gunzip.destroy(error as Error);
    }
  })();
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      onBytes(chunk.length);
      yield chunk;
    }
  } finally {
    if (!gunzip.readableEnded) gunzip.destroy();
    await feeding;
  }
}

/**
 * Decodes one buffer completely (a Kinesis record's data after base64, a Firehose record, a
 * small file). Synchronous, for handlers; same detection and the same items as `decodeStream`.
 */
export function decodeBytes(bytes: Uint8Array, options: DecodeOptions = {}): DecodedItem[] {
  const file = options.file;
  const budget = inflationBudget(options);
  let text: string;
  if (isGzip(bytes)) {
    const inflation = inflateWithin(bytes, budget, "gzip data");
    if (!inflation.ok) {
      const source: SourceRef = {};
      if (file !== undefined) source.file = file;
      const reason = inflation.limit ? inflation.reason : `gzip data does not inflate: ${inflation.message}`;
      return [{ kind: "invalid", field: "gzip", reason, raw: Buffer.from(bytes).toString("base64"), source }];
    }
    text = inflation.bytes.toString("utf8");
  } else {
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  }
  return decodeWithin(text, options, budget);
}

/** Decodes a whole text (already inflated). */
export function decodeText(text: string, options: DecodeOptions = {}): DecodedItem[] {
  return decodeWithin(text, options, inflationBudget(options));
}

/** `decodeText` within an input's budget of inflated bytes, part of it possibly spent on the text itself. */
function decodeWithin(text: string, options: DecodeOptions, budget: InflationBudget): DecodedItem[] {
  const single = singleObject(text, options);
  if (single) return classifyParsedSegment(single.segment, single.value, options.file, options, budget);
  const segmenter = new JsonSegmenter(options);
  const items: DecodedItem[] = [];
  for (const segment of [...segmenter.push(text), ...segmenter.end()]) items.push(...classifySegment(segment, options.file, options, budget));
  // One buffer is one input (a Kinesis or Firehose record): its top-level values share one limit.
  return collapseInvalidItems(items, options);
}

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d;
}

/** Whether `value` nests containers (objects, arrays) more than `budget` levels deep, as the segmenter counts them. */
function nestsDeeperThan(value: unknown, budget: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (budget === 0) return true;
  if (Array.isArray(value)) return value.some((element) => nestsDeeperThan(element, budget - 1));
  for (const key in value) if (nestsDeeperThan((value as Record<string, unknown>)[key], budget - 1)) return true;
  return false;
}

/**
 * The fast path of `decodeText` for the common input, one JSON object (a Kinesis or Firehose
 * record's subscription payload): when the whole text parses as one object, it is the one segment
 * the segmenter would find (JSON whitespace around it, nesting within `maxDepth`; a complete value
 * in one chunk is never cut for size), so the segmenter's scan of every character is skipped and
 * the text is parsed once. Anything else (JSON Lines, arrays, text lines, bad JSON, a byte-order
 * mark) returns undefined, for the segmenter.
 */
function singleObject(text: string, options: DecodeOptions): { segment: Extract<Segment, { kind: "json" }>; value: unknown } | undefined {
  let start = 0;
  let line = 1;
  for (; start < text.length; start++) {
    const code = text.charCodeAt(start);
    if (!isJsonWhitespace(code)) break;
    if (code === 0x0a) line++;
  }
  if (text.charCodeAt(start) !== 0x7b) return undefined;
  let end = text.length - 1;
  while (end > start && isJsonWhitespace(text.charCodeAt(end))) end--;
  if (text.charCodeAt(end) !== 0x7d) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
    if (nestsDeeperThan(value, options.maxDepth ?? DEFAULT_MAX_DEPTH)) return undefined;
  } catch {
    // Not one JSON document (or nested beyond the stack): the segmenter finds what it is.
    return undefined;
  }
  const objectText = start === 0 && end === text.length - 1 ? text : text.slice(start, end + 1);
  return { segment: { kind: "json", text: objectText, line }, value };
}
