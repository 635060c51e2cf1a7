/**
 * @bedrock-spend/core: the pure domain of bedrock-spend. No I/O, no AWS SDK.
 */

export * from "./attribution";
export * from "./base64";
export * from "./bill/drift";
export * from "./bill/reconcile";
export * from "./bill/suggest";
export * from "./bill/usage-types";
export * from "./budget";
export * from "./catalog";
export * from "./clock";
export * from "./concurrency";
export * from "./cost";
export * from "./counters";
export * from "./decode/classify";
export * from "./decode/decode";
export * from "./decode/items";
export * from "./decode/segmenter";
export * from "./defaults";
export * from "./errors";
export * from "./invocation";
export * from "./lake-document";
export * from "./model";
export * from "./money";
export * from "./order";
export * from "./periods";
export * from "./price-line";
export * from "./priced-items";
export * from "./pricer";
export * from "./reprice";
export * from "./request-metadata";
export * from "./spend";
export * from "./subscription";
export * from "./text";
export * from "./usage";
export * from "./views";
