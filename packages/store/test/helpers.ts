/**
 * Test helpers for the aggregates table on DynamoDB Local.
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { defaultCatalog, type PricedInvocation, Pricer, parseInvocationLog } from "@bedrock-spend/core";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { inject } from "vitest";
import { createAggregatesTable } from "../src/table";
import type { InvocationToCount } from "../src/usage-writer";

/** A client for the run's DynamoDB Local and a fresh table. */
export async function freshTable(): Promise<{ client: DynamoDBClient; tableName: string }> {
  const client = localDynamoDbClient(inject("dynamoDbEndpoint"));
  const tableName = `aggregates-${randomUUID()}`;
  await createAggregatesTable(client, tableName);
  return { client, tableName };
}

const pricer = new Pricer({ catalog: defaultCatalog() });

/** A priced invocation built from a few fields of an invocation log record. */
export function invocation(
  requestId: string,
  fields: { tenant?: string; model?: string; timestamp?: string; input?: number; output?: number; cacheRead?: number; cacheWrite?: number } = {},
  origin = requestId,
): InvocationToCount {
  const parsed = parseInvocationLog({
    requestId,
    timestamp: fields.timestamp ?? "2026-11-27T10:00:00Z",
    region: "us-east-1",
    modelId: fields.model ?? "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    requestMetadata: fields.tenant === undefined ? { tenantId: "acme" } : { tenantId: fields.tenant },
    input: { inputTokenCount: fields.input ?? 100, cacheReadInputTokenCount: fields.cacheRead ?? 0, cacheWriteInputTokenCount: fields.cacheWrite ?? 0 },
    output: { outputTokenCount: fields.output ?? 10 },
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  const priced: PricedInvocation = pricer.price(parsed.log);
  return { record: priced.record, costPico: priced.costPico, origin };
}
