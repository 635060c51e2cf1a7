/**
 * The aggregates table's key and TTL attribute names. A file without imports, so that the CDK
 * stacks can import it by path: SST bundles sst.config.ts with the workspace packages external,
 * and table.ts imports `@bedrock-spend/core`, which Node cannot load as TypeScript.
 */

/** Partition key attribute. */
export const PK = "pk";
/** Sort key attribute. */
export const SK = "sk";
/** TTL attribute (epoch seconds) of dedup items. */
export const TTL_ATTRIBUTE = "expiresAt";
