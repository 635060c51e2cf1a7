/**
 * The reprice Lambda: one step of the reprice job (stacks/Reprice.ts loops it with Step Functions;
 * the logic is `runRepriceStep`, pipeline/reprice-job.ts), given a slice of time to start lake days in.
 */
import { type RepriceJobDeps, type RepriceJobEvent, type RepriceStepResult, runRepriceStep } from "@bedrock-spend/pipeline";
import { REPRICE_METRICS } from "./lib/contracts";
import type { Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics } from "./lib/metrics";
import { logger } from "./lib/powertools";
import { repriceStepDepsFromEnv } from "./lib/reprice";

export { DEFAULT_SLICE_SECONDS } from "./lib/reprice";

/** The step's dependencies, and its slice: new lake days are started for `sliceMs` from the step's start. */
export type RepriceHandlerDeps = Omit<RepriceJobDeps, "shouldStop" | "onProgress"> & { sliceMs: number; clock?: () => number };

/** Builds the handler around its dependencies. */
export function createRepriceHandler({ sliceMs, clock = Date.now, ...deps }: RepriceHandlerDeps) {
  return async (event: RepriceJobEvent): Promise<RepriceStepResult> => {
    const started = clock();
    const step = await runRepriceStep(event, { ...deps, shouldStop: () => clock() - started >= sliceMs, onProgress: (message) => logger.info(message) });
    emitMetrics(REPRICE_METRICS, step);
    logger.info("reprice step", { ...step, execution: event.execution.name, elapsedMs: clock() - started });
    return step;
  };
}

/** The handler on AWS: the table, the pricing, the lake and the job's timing (lib/reprice.ts). */
export const fromEnvironment = (env: Environment) => createRepriceHandler(repriceStepDepsFromEnv(env));

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
