/**
 * Local mode for the CLI commands: one import point for the runtime.
 */
export * from "@bedrock-spend/local-mode";
