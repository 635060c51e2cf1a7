/**
 * Vitest global setup: one DynamoDB Local for the whole run (the JVM takes seconds to start).
 * Test files isolate themselves with their own tables.
 */
import { startDynamoDbLocal } from "@bedrock-spend/emulators";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const local = await startDynamoDbLocal();
  project.provide("dynamoDbEndpoint", local.endpoint);
  return () => local.stop();
}
