/**
 * One tenant id, however it is spelled at the edges: a tenant whose applications send
 * `requestMetadata` with surrounding whitespace is counted by the pipeline under the trimmed id,
 * and the spend API's path, with the same whitespace, names that same tenant (core's normalizeId).
 */
import { randomUUID } from "node:crypto";
import { MemoryDeadLetterQueue } from "@bedrock-spend/adapters";
import { handleSpendApi, type SpendApiDeps } from "@bedrock-spend/api";
import { defaultCatalog, Pricer } from "@bedrock-spend/core";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { processBatch } from "@bedrock-spend/pipeline";
import { AggregatesStore, createAggregatesTable, UsageWriter } from "@bedrock-spend/store";
import { describe, expect, inject, it } from "vitest";

const logLine = (requestId: string, tenantId: string) =>
  JSON.stringify({
    schemaType: "ModelInvocationLog",
    schemaVersion: "1.0",
    timestamp: "2026-11-27T10:00:00Z",
    accountId: "111122223333",
    requestId,
    region: "us-east-1",
    operation: "Converse",
    modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    requestMetadata: { tenantId },
    input: { inputTokenCount: 1000 },
    output: { outputTokenCount: 100 },
  });

describe("Invariant: the pipeline and the spend API normalize a tenant id the same way", () => {
  it("puts a budget set at /v1/tenants/acme%20/budget on the tenant the pipeline counts metadata ` acme\\t` under", async () => {
    // Prepare
    const client = localDynamoDbClient(inject("dynamoDbEndpoint"));
    const tableName = `tenant-normalization-${randomUUID()}`;
    await createAggregatesTable(client, tableName);
    const store = new AggregatesStore(client, tableName);
    const deadLetters = new MemoryDeadLetterQueue();
    const deps: SpendApiDeps = { store, defaultBudget: null, now: () => Date.parse("2026-11-27T12:00:00Z") };
    const iam = { mode: "iam" as const, iamPrincipal: "arn:aws:iam::111122223333:role/billing" };

    // Act
    const batch = await processBatch([{ sequenceNumber: "1", source: "kinesis:s:1", data: new TextEncoder().encode(`${logLine("r1", " acme\t")}\n`) }], {
      pricer: new Pricer({ catalog: defaultCatalog() }),
      writer: new UsageWriter({ client, tableName }),
      deadLetters,
    });
    const put = await handleSpendApi({ method: "PUT", path: "/v1/tenants/acme%20/budget", query: {}, body: '{"monthlyUsd":"10.00"}', auth: iam }, deps);
    const spend = await handleSpendApi({ method: "GET", path: "/v1/tenants/%20acme%09/spend", query: { month: "2026-11" }, body: null, auth: iam }, deps);
    const blank = await handleSpendApi({ method: "PUT", path: "/v1/tenants/%20%09/budget", query: {}, body: '{"monthlyUsd":"10.00"}', auth: iam }, deps);

    // Assess
    expect(batch.stats).toMatchObject({ counted: 1, quarantined: 0 });
    expect(JSON.parse(put.body)).toMatchObject({ tenantId: "acme", budget: { monthlyUsd: "10.00" } });
    expect(JSON.parse(spend.body)).toMatchObject({ tenantId: "acme", invocations: 1, inputTokens: 1000, budget: { monthlyUsd: "10.00" } });
    expect(await store.monthTotal("acme", "2026-11")).toMatchObject({ invocations: 1 });
    expect(blank.statusCode).toBe(400);
    expect(JSON.parse(blank.body)).toMatchObject({ status: 400, field: "tenantId" });
  });
});
