/**
 * @bedrock-spend/traffic: deterministic, realistic multi-tenant Bedrock invocation-log traffic
 * for the reference workload, local mode and the shipped samples. Pure: no I/O.
 */
export * from "./bill";
export * from "./bodies";
export * from "./cloudwatch";
export * from "./generate";
export * from "./models";
export * from "./prng";
export * from "./s3-layout";
export * from "./tenant-profiles";
export * from "./tenants";
export * from "./text";
export * from "./zipf";
