/**
 * @bedrock-spend/runtime: local mode's event source mappings and Firehose around the real handlers.
 */

export * from "./chaos";
export * from "./envelopes";
export * from "./event-source-mappings";
export * from "./firehose";
export * from "./kinesis-consumer";
