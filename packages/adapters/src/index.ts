/**
 * @bedrock-spend/adapters: the I/O behind the handlers' small interfaces, for AWS and for local mode.
 */
export * from "./alert-publisher";
export * from "./athena-queries";
export * from "./athena-reconcile-source";
export * from "./athena-reprice-lake";
export * from "./bedrock-profile-admin";
export * from "./bedrock-profile-source";
export * from "./dead-letter";
export * from "./file-dead-letter";
export * from "./firehose-redrive";
export * from "./invocation-log-source";
export * from "./kinesis-reader";
export * from "./memory-dead-letter";
export * from "./raw-failures";
export * from "./s3-signed-put";
export * from "./signed-fetch";
export * from "./sqs-dead-letter";
