/**
 * aggregate: DynamoDB write units per log record of the exactly-once writer (packages/store
 * UsageWriter, the aggregate Lambda's writer), against the minimum for each batch's distinct items
 * under this key design, and against the naive design (one transaction per record).
 *
 * The transactions really run on DynamoDB Local. Units are counted item by item by DynamoDB's rule
 * (2 per item per started KB in a transaction), because DynamoDB Local's ConsumedCapacity reports
 * 2 units per transaction whatever its size.
 */
import { randomUUID } from "node:crypto";
import { type DynamoDBClient, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { defaultCatalog, Pricer, parseInvocationLog, StaticProfileMap } from "@bedrock-spend/core";
import { localDynamoDbClient, startDynamoDbLocal } from "@bedrock-spend/emulators";
import { aggregateKeysOf, createAggregatesTable, dedupKey, type InvocationToCount, UsageWriter } from "@bedrock-spend/store";
import { APPLICATION_PROFILES, generateTraffic } from "@bedrock-spend/traffic";
import type { Benchmark } from "./types";

const RATE = 200;

/** Valid, priced-or-unpriced invocations of the reference workload (seed 1), in log order. */
function referenceInvocations(count: number): InvocationToCount[] {
  const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });
  const invocations: InvocationToCount[] = [];
  for (const item of generateTraffic({ seed: 1, count: Number.POSITIVE_INFINITY, ratePerSecond: RATE })) {
    if (item.kind !== "record") continue;
    const parsed = parseInvocationLog(item.record);
    if (!parsed.ok) continue;
    const priced = pricer.price(parsed.log);
    invocations.push({ record: priced.record, costPico: priced.costPico, origin: priced.record.request_id });
    if (invocations.length === count) break;
  }
  return invocations;
}

interface Configuration {
  name: string;
  batchSize: number;
  records: number;
}

interface Row extends Configuration {
  batches: number;
  writeUnits: number;
  /** Units the by-period index adds (standard writes of the aggregate items' index entries). */
  indexWriteUnits: number;
  minimumUnits: number;
  /** The table's and the index's units per record: what DynamoDB bills. */
  wruPerRecord: number;
  /** The table's units alone per record. */
  tableWruPerRecord: number;
  wruVsMinimum: number;
  transactionsPerBatch: number;
  tenantsPerBatch: number;
  itemsPerBatch: number;
  recordsPerSecOnDynamoDbLocal: number;
}

async function measure(client: DynamoDBClient, invocations: InvocationToCount[], configuration: Configuration): Promise<Row> {
  const tableName = `bench-${randomUUID()}`;
  await createAggregatesTable(client, tableName);
  const writer = new UsageWriter({ client, tableName });
  let writeUnits = 0;
  let indexWriteUnits = 0;
  let minimumUnits = 0;
  let transactions = 0;
  let tenants = 0;
  let items = 0;
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < invocations.length; offset += configuration.batchSize) {
    const batch = invocations.slice(offset, offset + configuration.batchSize);
    // The minimum for this batch under this key design: each of its distinct items (a dedup item
    // per request id, each aggregate item its records touch) written once, 2 units each (< 1 KB).
    const keys = new Set(batch.flatMap((invocation) => aggregateKeysOf(invocation.record).map((key) => `${key.pk}\u0000${key.sk}`)));
    const requestIds = new Set(batch.map((invocation) => invocation.record.request_id));
    minimumUnits += 2 * (requestIds.size + keys.size);
    tenants += new Set(batch.map((invocation) => invocation.record.tenant_id)).size;
    items += requestIds.size + keys.size;
    const outcome = await writer.write(batch);
    if (outcome.failed.length > 0) throw outcome.failed[0]?.error;
    if (outcome.counted.length !== requestIds.size) throw new Error(`counted ${outcome.counted.length} of ${requestIds.size} distinct records`);
    writeUnits += outcome.writeUnits;
    indexWriteUnits += outcome.indexWriteUnits;
    transactions += outcome.transactions;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const batches = Math.ceil(invocations.length / configuration.batchSize);
  return {
    ...configuration,
    batches,
    writeUnits,
    indexWriteUnits,
    minimumUnits,
    wruPerRecord: Number(((writeUnits + indexWriteUnits) / invocations.length).toFixed(3)),
    tableWruPerRecord: Number((writeUnits / invocations.length).toFixed(3)),
    wruVsMinimum: Number((writeUnits / minimumUnits).toFixed(4)),
    transactionsPerBatch: Number((transactions / batches).toFixed(1)),
    tenantsPerBatch: Number((tenants / batches).toFixed(1)),
    itemsPerBatch: Number((items / batches).toFixed(1)),
    recordsPerSecOnDynamoDbLocal: Math.round(invocations.length / seconds),
  };
}

/** The naive design: one transaction per record, its dedup put and its aggregate updates. */
async function naive(client: DynamoDBClient, invocations: InvocationToCount[]): Promise<number> {
  const tableName = `bench-naive-${randomUUID()}`;
  await createAggregatesTable(client, tableName);
  let writeUnits = 0;
  for (const invocation of invocations) {
    const { pk, sk } = dedupKey(invocation.record.request_id);
    const keys = aggregateKeysOf(invocation.record);
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName,
              Item: { pk: { S: pk }, sk: { S: sk }, tenantId: { S: invocation.record.tenant_id }, eventTime: { S: invocation.record.event_time } },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          ...keys.map((key) => ({
            Update: {
              TableName: tableName,
              Key: { pk: { S: key.pk }, sk: { S: key.sk } },
              UpdateExpression: "ADD invocations :one, inputTokens :in, outputTokens :out, costPico :cost",
              ExpressionAttributeValues: {
                ":one": { N: "1" },
                ":in": { N: String(invocation.record.input_tokens) },
                ":out": { N: String(invocation.record.output_tokens) },
                ":cost": { N: String(invocation.costPico ?? 0n) },
              },
            },
          })),
        ],
      }),
    );
    // Every item is under 1 KB: 2 units per item of the transaction.
    writeUnits += 2 * (1 + keys.length);
  }
  return Number((writeUnits / invocations.length).toFixed(3));
}

const aggregate: Benchmark = {
  key: "aggregate",
  title: "Aggregate writes: DynamoDB write units per record",
  async run(context) {
    const scale = context.quick ? 50 : 1;
    const configurations: Configuration[] = [
      { name: "batch 500 (headline)", batchSize: 500, records: 6_000 / scale },
      { name: "batch 100", batchSize: 100, records: 2_000 / scale },
      { name: "batch 2,000", batchSize: 2_000 / scale, records: 4_000 / scale },
      // The reference workload's Kinesis batch: 500 Kinesis records of 50 log events each.
      { name: "Kinesis batch of 500 x 50 events", batchSize: 25_000 / scale, records: 25_000 / scale },
    ];
    const all = referenceInvocations(Math.max(...configurations.map((configuration) => configuration.records)));
    const rows: Row[] = [];
    let naiveWruPerRecord = 0;
    // A fresh DynamoDB Local per configuration (its in-memory database slows down as it fills),
    // except in the quick run, where the JVM's start-up would be most of the time.
    let shared: Awaited<ReturnType<typeof startDynamoDbLocal>> | undefined = context.quick ? await startDynamoDbLocal() : undefined;
    for (const configuration of [...configurations, undefined]) {
      const local = shared ?? (await startDynamoDbLocal());
      const client = localDynamoDbClient(local.endpoint);
      try {
        if (configuration) {
          const row = await measure(client, all.slice(0, configuration.records), configuration);
          context.log(`aggregate: ${JSON.stringify(row)}`);
          rows.push(row);
        } else {
          naiveWruPerRecord = await naive(client, all.slice(0, 1_000 / scale));
          context.log(`aggregate: naive ${naiveWruPerRecord} units per record`);
        }
      } finally {
        client.destroy();
        if (!shared) await local.stop();
      }
    }
    await shared?.stop();
    shared = undefined;
    const headline = rows[0] as Row;
    const kinesis = rows[3] as Row;
    return {
      figures: {
        wruPerRecord: headline.wruPerRecord,
        tableWruPerRecord: headline.tableWruPerRecord,
        indexWruPerRecord: Number((headline.indexWriteUnits / headline.records).toFixed(3)),
        wruVsMinimum: headline.wruVsMinimum,
        naiveWruPerRecord,
        batchSize: headline.batchSize,
        kinesisBatchWruPerRecord: kinesis.wruPerRecord,
        kinesisBatchTableWruPerRecord: kinesis.tableWruPerRecord,
      },
      markdown: [
        `The exactly-once writer (the aggregate Lambda's \`UsageWriter\`) counts the first records of the reference workload`,
        `(seed 1, 10,000 tenants, Zipf 1.1, ${RATE} records/s of event time) in batches of log records, on DynamoDB Local, one`,
        "fresh table per configuration. A record costs its dedup item (a conditional put keyed by Bedrock's requestId, in",
        "the same transaction as the counts: invariant 1) plus its share of the aggregate items of the batch (tenant x",
        "month, tenant x day x model), each updated once per transaction with the pre-aggregated delta. Units are counted",
        "item by item by DynamoDB's rule (2 per item per started KB in a transaction; every item here is under 1 KB),",
        "because DynamoDB Local's ConsumedCapacity says 2 per transaction whatever its size. The minimum is that rule",
        "applied to each batch's distinct items written once; the naive design is one transaction per record.",
        "Units per record include the by-period index writes, 1 unit per update of an item in it (breakdown items only,",
        "none in this workload: month totals and day x model items are not indexed; the report across tenants ranks",
        "tenants from rank entries the table stream's consumer moves, not the writer); the table alone is the next column.",
        "",
        "| configuration | records | units / record | table units / record | table units / minimum | transactions / batch | tenants / batch | items / batch | records/s on DynamoDB Local |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...rows.map(
          (row) =>
            `| ${row.name} | ${row.records.toLocaleString("en-US")} | ${row.wruPerRecord} | ${row.tableWruPerRecord} | ${row.wruVsMinimum} | ${row.transactionsPerBatch} | ${row.tenantsPerBatch} | ${row.itemsPerBatch} | ${row.recordsPerSecOnDynamoDbLocal} |`,
        ),
        `| naive: one transaction per record (table) | ${1_000 / scale} | - | ${naiveWruPerRecord} | - | 1 per record | - | - | - |`,
        "",
        "What limits this figure: the floor of this design is 2 units per record, the dedup item that makes counting",
        "exactly once; the rest is the batch's aggregate items shared by its records (each written twice: the table's",
        "transactional update, 2 units, and its index entry, 1), so the figure falls as batches",
        "grow (more records per tenant-month and tenant-day-model item). Transactions are packed first-fit decreasing",
        "by tenant, so an item is written more than once per batch only when one tenant alone overflows a transaction",
        "(100 actions): that is the whole gap to the minimum. A production aggregate Lambda batch is 100 Kinesis records",
        "of up to 50 log events each, i.e. far more than 500 log records when traffic is high, so the deployed figure is",
        "nearer the last configuration's. The records/s column is DynamoDB Local's speed on this machine, not DynamoDB's.",
      ].join("\n"),
      details: rows,
    };
  },
};
export default aggregate;
