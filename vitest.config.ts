import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "functions/test/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/setup/dynamodb.ts", "test/setup/processes.ts", "test/setup/cli-bundle.ts"],
    // Spawned processes die with their whole tree when their test or file ends (test/helpers/spawned.ts).
    setupFiles: ["test/setup/spawned.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on CI: two workers keep the machine responsive for the local servers later tests start.
    maxWorkers: 2,
  },
});
