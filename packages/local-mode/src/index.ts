/**
 * @bedrock-spend/local-mode: local mode's event source mappings and Firehose around the real handlers,
 * and the local stack that runs them on a data dir.
 */

export * from "./backfill-lake";
export * from "./chaos";
export * from "./checkpoints";
export * from "./consumer-loops";
export * from "./data-dir";
export * from "./envelopes";
export * from "./event-source-mappings";
export * from "./firehose";
export * from "./kinesis-consumer";
export * from "./kinesis-put";
export * from "./lake-delivery";
export * from "./lake-errors";
export * from "./local-stack";
export * from "./local-table";
export * from "./lock";
export * from "./sample-history";
export * from "./shutdown";
export * from "./tenant-profiles";
