/**
 * The Lambda entry point every handler shares: middy with Powertools' logger context and EMF
 * metrics around a handler that is built from the environment on the first invocation.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy, { type MiddyfiedHandler } from "@middy/core";
import type { Context } from "aws-lambda";
import type { Environment } from "./env";
import { logger, metrics } from "./powertools";

/** Builds a handler from the environment; throws `ConfigurationError` naming a missing or malformed setting. */
export type HandlerFactory<TEvent, TResult> = (env: Environment) => (event: TEvent) => Promise<TResult>;

/**
 * The Lambda entry point of `fromEnvironment`'s handler. It is built on the first invocation, not
 * at import, so that importing a handler module needs no configuration; a configuration error
 * fails that invocation (and the next one tries again) rather than running on a guess. Keys a
 * handler appends to the logger last one invocation; metrics are flushed after each one.
 */
export function lambdaHandler<TEvent, TResult>(fromEnvironment: HandlerFactory<TEvent, TResult>): MiddyfiedHandler<TEvent, TResult, Error, Context> {
  let configured: ((event: TEvent) => Promise<TResult>) | undefined;
  return middy<TEvent, TResult, Error, Context>(async (event: TEvent) => {
    configured ??= fromEnvironment(process.env);
    return configured(event);
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
