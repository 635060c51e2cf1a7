/**
 * @bedrock-spend/pipeline: orchestration shared by the handlers, local mode and the CLI.
 */
export * from "./aggregate-batch";
export * from "./alert-delivery";
export * from "./alert-sweep";
export * from "./backfill";
export * from "./budget-alerts";
export * from "./lake-failures";
export * from "./rank-entries";
export * from "./reconcile-job";
export * from "./redrive";
export * from "./reprice";
export * from "./reprice-job";
export * from "./transform-batch";
