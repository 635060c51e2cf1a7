/**
 * The real spend data path on DynamoDB Local: a fresh aggregates table, usage counted by the
 * store's UsageWriter from invocation log records priced by the core's Pricer, budgets put by the
 * AggregatesStore, and the spend API (`handleSpendApi`) served on 127.0.0.1 by the local server
 * that `bedrock-spend start` uses (the dashboard server, which delegates `/v1/*` to it).
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { handleSpendApi } from "@bedrock-spend/api";
import { defaultCatalog, Pricer, parseInvocationLog } from "@bedrock-spend/core";
import { createDashboardServer, type DashboardServer } from "@bedrock-spend/dashboard";
import { createMemoryDashboardData } from "@bedrock-spend/dashboard/reference";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { AggregatesStore, createAggregatesTable, type InvocationToCount, UsageWriter } from "@bedrock-spend/store";
import { inject } from "vitest";

/** Haiku 4.5 on the global profile: input is 1.00 USD per million tokens, so 1,000,000 input tokens cost exactly 1.00. */
export const HAIKU = "global.anthropic.claude-haiku-4-5-20251001-v1:0";

const pricer = new Pricer({ catalog: defaultCatalog() });

/** A fresh table with the spend API in front of it. */
export interface SpendFixture {
  client: DynamoDBClient;
  tableName: string;
  store: AggregatesStore;
  /** Base URL of the local spend API. */
  apiUrl: string;
  /** Counts an invocation of `tenantId` costing `usd` (whole cents) on `timestamp`. */
  spend(tenantId: string, usd: string, timestamp?: string): Promise<void>;
  budget(tenantId: string, monthlyUsd: string): Promise<void>;
  close(): Promise<void>;
}

let sequence = 0;

/** Input tokens of Haiku 4.5 (global) that cost exactly `usd`. */
function tokensFor(usd: string): number {
  const [whole, fraction = ""] = usd.split(".");
  return Number(whole) * 1_000_000 + Number(fraction.padEnd(6, "0").slice(0, 6));
}

export async function freshSpendFixture(): Promise<SpendFixture> {
  const client = localDynamoDbClient(inject("dynamoDbEndpoint"));
  const tableName = `sdk-${randomUUID()}`;
  await createAggregatesTable(client, tableName);
  const store = new AggregatesStore(client, tableName);
  const writer = new UsageWriter({ client, tableName });
  const server: DashboardServer = createDashboardServer({
    data: createMemoryDashboardData(),
    spendApi: (request) => handleSpendApi(request, { store, defaultBudget: null, allowUnauthenticated: true }),
  });
  const { url } = await server.listen(0, "127.0.0.1");
  return {
    client,
    tableName,
    store,
    apiUrl: url.replace(/\/$/, ""),
    async spend(tenantId, usd, timestamp = "2026-11-03T10:00:00Z") {
      const requestId = `sdk-${process.pid}-${++sequence}-${randomUUID()}`;
      const parsed = parseInvocationLog({
        requestId,
        timestamp,
        region: "us-east-1",
        modelId: HAIKU,
        requestMetadata: { tenantId },
        input: { inputTokenCount: tokensFor(usd) },
        output: { outputTokenCount: 0 },
      });
      if (!parsed.ok) throw new Error(parsed.reason);
      const priced = pricer.price(parsed.log);
      const invocation: InvocationToCount = { record: priced.record, costPico: priced.costPico, origin: requestId };
      const outcome = await writer.write([invocation]);
      if (outcome.counted.length !== 1) throw new Error(`usage not counted: ${outcome.failed.map((failure) => failure.error.message).join("; ")}`);
    },
    async budget(tenantId, monthlyUsd) {
      await store.putBudget(tenantId, { monthlyUsd, thresholds: [50, 80, 100] });
    },
    async close() {
      await server.close();
    },
  };
}
