/**
 * The Ingest stack's custom resource over the account's Bedrock model invocation logging (one
 * setting per account and Region), behind CDK's provider framework (stacks/Ingest.ts): it adds the
 * stack's CloudWatch destination to whatever the setting already has, and gives back what it found
 * when the stack removes it. The rules are in ./logging-configuration.ts.
 *
 * - Create: reads the setting; refuses one that delivers to another log group (naming both and
 *   the settings to deploy with); adds our destination and text delivery, keeping the rest; records
 *   what it found in the physical id.
 * - Update: re-applies (the log group or role may have changed), keeping the record. A setting
 *   someone pointed elsewhere since is left alone, with a warning: CloudFormation rolls a failed
 *   update back by updating again, and a refusal here would refuse the rollback too.
 * - Delete: while the setting still delivers through our role to our log group, puts back what
 *   was found at create (nothing found: deletes the setting); otherwise leaves it alone.
 */
import {
  BedrockClient,
  DeleteModelInvocationLoggingConfigurationCommand,
  GetModelInvocationLoggingConfigurationCommand,
  type LoggingConfig,
  PutModelInvocationLoggingConfigurationCommand,
} from "@aws-sdk/client-bedrock";
import { BedrockSpendError, ConfigurationError } from "@bedrock-spend/core";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import type { Environment } from "../lib/env";
import { lambdaHandler } from "../lib/handler";
import { logger } from "../lib/powertools";
import {
  conflictOf,
  destinationOwner,
  type LoggingTarget,
  normalizeLoggingConfig,
  priorOf,
  readPrior,
  recordPrior,
  restoredConfig,
  sameLoggingConfig,
  withOurDestination,
} from "./logging-configuration";

/** The resource's properties, as the stack sets them (CloudFormation passes strings). */
export interface BedrockLoggingProperties {
  /** The log group Bedrock is to write the invocation records to. */
  LogGroupName: string;
  /** The role Bedrock assumes to write them (the stack's; the only one this function may pass). */
  RoleArn: string;
}

/** What the provider framework receives from the function. */
export interface BedrockLoggingResponse {
  PhysicalResourceId: string;
}

/** A Bedrock call of the custom resource that failed; `cause` holds the SDK error. */
export class BedrockLoggingError extends BedrockSpendError {
  /** The Bedrock operation, e.g. `PutModelInvocationLoggingConfiguration`. */
  readonly operation: string;
  /** Calls made, retries included. */
  readonly attempts: number;
  /** The configuration the call was putting, if it was a put. */
  readonly loggingConfig: LoggingConfig | undefined;

  constructor(operation: string, attempts: number, loggingConfig: LoggingConfig | undefined, options: ErrorOptions & { cause: unknown }) {
    const reason = options.cause instanceof Error ? `${options.cause.name}: ${options.cause.message}` : String(options.cause);
    const putting = loggingConfig ? ` putting ${JSON.stringify(loggingConfig)}` : "";
    super(`Bedrock ${operation}${putting} failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${reason}`, options);
    this.name = "BedrockLoggingError";
    this.operation = operation;
    this.attempts = attempts;
    this.loggingConfig = loggingConfig;
  }
}

/** How long a put waits out IAM: a new role's permissions take seconds to reach Bedrock. */
export interface PutRetry {
  /** Calls in all (default 8). */
  attempts: number;
  /** Wait before the second call, doubled before each next one (default 1 s)... */
  baseDelayMs: number;
  /** ...up to this (default 15 s): 1+2+4+8+15+15+15 = 60 s at most, well inside the function's timeout. */
  maxDelayMs: number;
}

const DEFAULT_RETRY: PutRetry = { attempts: 8, baseDelayMs: 1_000, maxDelayMs: 15_000 };

/** The handler's dependencies. */
export interface BedrockLoggingDeps {
  bedrock: BedrockClient;
  retry?: PutRetry;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Bedrock checks, when the setting is put, that the role may write to the log group; the role
 * created moments before by the same deploy is often not visible to it yet.
 */
function isPermissionPropagation(error: unknown): boolean {
  return error instanceof Error && error.name === "ValidationException" && /failed to validate permissions for log group/i.test(error.message);
}

function propertiesOf(properties: Record<string, unknown> | undefined, origin: string): LoggingTarget {
  const value = (name: keyof BedrockLoggingProperties): string => {
    const found = properties?.[name];
    if (typeof found !== "string" || found === "") throw new ConfigurationError(`${origin}.${name}`, "is required (a non-empty string)");
    return found;
  };
  return { logGroupName: value("LogGroupName"), roleArn: value("RoleArn") };
}

/** Builds the custom resource's event handler around a Bedrock client. */
export function createBedrockLoggingHandler({ bedrock, retry = DEFAULT_RETRY, sleep = defaultSleep }: BedrockLoggingDeps) {
  async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new BedrockLoggingError(operation, 1, undefined, { cause: error });
    }
  }

  async function current(): Promise<LoggingConfig | null> {
    const answer = await call("GetModelInvocationLoggingConfiguration", () => bedrock.send(new GetModelInvocationLoggingConfigurationCommand({})));
    return normalizeLoggingConfig(answer.loggingConfig);
  }

  async function put(loggingConfig: LoggingConfig): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await bedrock.send(new PutModelInvocationLoggingConfigurationCommand({ loggingConfig }));
        return;
      } catch (error) {
        if (!isPermissionPropagation(error) || attempt >= retry.attempts)
          throw new BedrockLoggingError("PutModelInvocationLoggingConfiguration", attempt, loggingConfig, { cause: error });
        const delayMs = Math.min(retry.baseDelayMs * 2 ** (attempt - 1), retry.maxDelayMs);
        logger.warn("Bedrock cannot see the logging role's permissions yet; retrying", { attempt, delayMs, error: (error as Error).message });
        await sleep(delayMs);
      }
    }
  }

  /** Puts `desired` unless the setting already is exactly that. */
  async function apply(found: LoggingConfig | null, desired: LoggingConfig): Promise<void> {
    if (sameLoggingConfig(found, desired)) {
      logger.info("Bedrock logging already as wanted; nothing put", { loggingConfig: desired });
      return;
    }
    await put(desired);
    logger.info("Bedrock logging put", { found, put: desired });
  }

  return async (event: CloudFormationCustomResourceEvent): Promise<BedrockLoggingResponse> => {
    const target = propertiesOf(event.ResourceProperties, "ResourceProperties");
    switch (event.RequestType) {
      case "Create": {
        const found = await current();
        const conflict = conflictOf(found, target);
        if (conflict) throw conflict;
        // Recorded (and its size checked) before anything is changed.
        const physicalResourceId = recordPrior(priorOf(found, target));
        await apply(found, withOurDestination(found, target, new Set([target.roleArn])));
        return { PhysicalResourceId: physicalResourceId };
      }
      case "Update": {
        const previous = propertiesOf(event.OldResourceProperties, "OldResourceProperties");
        const ownRoles = new Set([target.roleArn, previous.roleArn]);
        const found = await current();
        const owner = destinationOwner(found, target, ownRoles);
        if (owner === "theirs" || (owner === "theirs-at-our-group" && found?.textDataDeliveryEnabled !== true)) {
          logger.warn("Bedrock logging was pointed elsewhere since the stack set it; left alone", { found, wanted: target });
        } else {
          await apply(found, withOurDestination(found, target, ownRoles));
        }
        return { PhysicalResourceId: event.PhysicalResourceId };
      }
      case "Delete": {
        const prior = readPrior(event.PhysicalResourceId);
        if (prior === undefined) {
          logger.warn("Not a physical id this resource wrote; Bedrock logging left alone", { physicalResourceId: event.PhysicalResourceId });
          return { PhysicalResourceId: event.PhysicalResourceId };
        }
        const found = await current();
        const destination = found?.cloudWatchConfig;
        if (!found || destination?.roleArn !== target.roleArn || destination.logGroupName !== target.logGroupName) {
          logger.warn("Bedrock logging no longer delivers through the stack's role to its log group; left alone", { found, prior });
          return { PhysicalResourceId: event.PhysicalResourceId };
        }
        const restored = restoredConfig(found, prior);
        if (restored) {
          await apply(found, restored);
        } else {
          await call("DeleteModelInvocationLoggingConfiguration", () => bedrock.send(new DeleteModelInvocationLoggingConfigurationCommand({})));
          logger.info("Bedrock logging deleted: there was none before the stack", { found });
        }
        return { PhysicalResourceId: event.PhysicalResourceId };
      }
    }
  };
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The handler on AWS: the Region's Bedrock control-plane client (the resource has no environment of its own). */
export const fromEnvironment = (_env: Environment) => createBedrockLoggingHandler({ bedrock: new BedrockClient({}) });

/** Lambda entry point (the provider framework's onEvent function). */
export const handler = lambdaHandler(fromEnvironment);
