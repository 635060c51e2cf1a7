/**
 * Writes docs/openapi.yaml from the spend API's zod schemas (packages/api/src/openapi.ts).
 * `pnpm exec tsx scripts/generate-openapi.ts`; packages/api/test/openapi.test.ts fails while the
 * committed file differs from what this writes.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openApiYaml } from "@bedrock-spend/api/openapi";

const target = fileURLToPath(new URL("../docs/openapi.yaml", import.meta.url));
writeFileSync(target, openApiYaml());
process.stdout.write(`wrote ${target}\n`);
