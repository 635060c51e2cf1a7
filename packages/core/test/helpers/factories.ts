/**
 * Test factories: real-shaped Bedrock invocation log records and the envelopes they travel in.
 */
import { gzipSync } from "node:zlib";

/** A Converse invocation log record, as Bedrock writes it; `overrides` are merged at the top level. */
export function invocationLog(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaType: "ModelInvocationLog",
    schemaVersion: "1.0",
    timestamp: "2026-11-27T10:00:00Z",
    accountId: "123456789012",
    identity: { arn: "arn:aws:sts::123456789012:assumed-role/AppRole/session-1" },
    region: "us-east-1",
    requestId: "6f1c2a9e-8b7d-4c3e-9f21-0a1b2c3d4e5f",
    operation: "Converse",
    modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    requestMetadata: { tenantId: "acme", departmentId: "sales", userId: "u-17" },
    input: {
      inputContentType: "application/json",
      inputBodyJson: { messages: [{ role: "user", content: [{ text: "Summarise the ticket." }] }] },
      inputTokenCount: 120,
      cacheReadInputTokenCount: 0,
      cacheWriteInputTokenCount: 0,
    },
    output: {
      outputContentType: "application/json",
      outputBodyJson: {
        output: { message: { role: "assistant", content: [{ text: "The customer wants a refund." }] } },
        stopReason: "end_turn",
        usage: { inputTokens: 120, outputTokens: 40, totalTokens: 160 },
        metrics: { latencyMs: 812 },
      },
      outputTokenCount: 40,
    },
    ...overrides,
  };
}

/** Sets token counts on a record (cache counts are separate from input, as Bedrock logs them). */
export function withTokens(
  record: Record<string, unknown>,
  tokens: { input?: unknown; output?: unknown; cacheRead?: unknown; cacheWrite?: unknown },
): Record<string, unknown> {
  const input = { ...(record.input as Record<string, unknown>) };
  const output = { ...(record.output as Record<string, unknown>) };
  if ("input" in tokens) input.inputTokenCount = tokens.input;
  if ("cacheRead" in tokens) input.cacheReadInputTokenCount = tokens.cacheRead;
  if ("cacheWrite" in tokens) input.cacheWriteInputTokenCount = tokens.cacheWrite;
  if ("output" in tokens) output.outputTokenCount = tokens.output;
  return { ...record, input, output };
}

/** A CloudWatch Logs subscription payload (DATA_MESSAGE) carrying `messages` as log events. */
export function subscriptionPayload(messages: string[], messageType = "DATA_MESSAGE"): Record<string, unknown> {
  return {
    messageType,
    owner: "123456789012",
    logGroup: "/aws/bedrock/modelinvocations",
    logStream: "aws/bedrock/modelinvocations",
    subscriptionFilters: ["bedrock-spend"],
    logEvents: messages.map((message, index) => ({
      id: `3795362178364987264387264387264387264387264387264387${String(index).padStart(4, "0")}`,
      timestamp: 1_795_000_000_000 + index,
      message,
    })),
  };
}

/** Base64 of gzip of a JSON value: what Kinesis carries for a CloudWatch Logs subscription. */
export function kinesisData(value: unknown): string {
  return gzipSync(Buffer.from(JSON.stringify(value))).toString("base64");
}

/** Yields a buffer in chunks of the given sizes (cycled), to exercise chunk boundaries. */
export async function* chunked(bytes: Uint8Array, sizes: number[] = [7]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let turn = 0;
  while (offset < bytes.length) {
    const size = Math.max(1, sizes[turn++ % sizes.length] ?? 7);
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
