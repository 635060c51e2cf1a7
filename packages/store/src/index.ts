/**
 * @bedrock-spend/store: the DynamoDB aggregates table.
 */
export * from "./aggregates-store";
export * from "./table";
export * from "./usage-writer";
