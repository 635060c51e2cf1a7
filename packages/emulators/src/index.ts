/**
 * @bedrock-spend/emulators: local implementations of the AWS APIs, for local mode and the tests.
 */
export * from "./bedrock-loopback";
export * from "./dynamodb-local";
export * from "./dynamodb-stream";
export * from "./kinesalite";
export * from "./listeners";
export * from "./ports";
export * from "./s3-loopback";
