/**
 * @bedrock-spend/store: the DynamoDB aggregates table, the one owner of its items, keys and
 * attribute names: the exactly-once writer, per-tenant reads, budgets, alert markers, local scans.
 */
export * from "./aggregates-store";
export * from "./aggregation";
export * from "./backfill-store";
export * from "./items";
export * from "./keys";
export * from "./layout";
export * from "./rank";
export * from "./reprice-store";
export * from "./scan";
export * from "./table";
export * from "./usage-writer";
