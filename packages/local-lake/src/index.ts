/**
 * @bedrock-spend/local-lake: the local data lake. Usage records written as hive-partitioned Parquet by
 * DuckDB (the local Firehose delivery), and DuckDB as the local Athena over them, with the
 * dashboard views and Trino function shims.
 */
export * from "./athena";
export * from "./errors";
export * from "./functions";
export * from "./layout";
export * from "./partitions";
export * from "./shims";
export { sqlIdentifier, sqlString } from "./sql";
export * from "./values";
export * from "./writer";
