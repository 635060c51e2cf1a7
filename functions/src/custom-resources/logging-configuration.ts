/**
 * Bedrock model invocation logging is one setting per account and Region. These are the rules by
 * which the Ingest stack's custom resource (./bedrock-logging.ts) adds its CloudWatch destination to
 * that setting without taking it over, and gives back what it found when it goes: pure functions
 * over the API's `LoggingConfig`, and the record of the configuration found at create.
 *
 * Whose destination is whose: the logging role is created by the Ingest stack and only this custom
 * resource writes it into the setting, so a CloudWatch destination with our role is ours (written
 * by this resource, or by the AwsCustomResource it replaces); any other one belongs to someone else.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { CloudWatchConfig, LoggingConfig, S3Config } from "@aws-sdk/client-bedrock";
import { BedrockSpendError } from "@bedrock-spend/core";

/** Where the stack wants Bedrock to write: its log group and the role Bedrock assumes to write there. */
export interface LoggingTarget {
  logGroupName: string;
  roleArn: string;
}

/** The data-type switches of the setting, each kept as found unless named otherwise. */
export const DATA_DELIVERY_SWITCHES = [
  "textDataDeliveryEnabled",
  "imageDataDeliveryEnabled",
  "embeddingDataDeliveryEnabled",
  "videoDataDeliveryEnabled",
  "audioDataDeliveryEnabled",
] as const;

/** The environment variables the deploy's messages point at (stacks/config.ts). */
const EXISTING_LOG_GROUP = "BEDROCK_SPEND_EXISTING_LOG_GROUP";
const CONFIGURE_BEDROCK_LOGGING = "BEDROCK_SPEND_CONFIGURE_BEDROCK_LOGGING";

/**
 * The account's logging setting already delivers somewhere this stack may not change: to another
 * log group, or (with text delivery off) to our log group through a role we may not pass.
 */
export class BedrockLoggingConflictError extends BedrockSpendError {
  /** The log group the setting delivers to. */
  readonly configuredLogGroup: string;
  /** The log group this stack asked for. */
  readonly logGroup: string;

  constructor(message: string, context: { configuredLogGroup: string; logGroup: string }, options?: ErrorOptions) {
    super(message, options);
    this.name = "BedrockLoggingConflictError";
    this.configuredLogGroup = context.configuredLogGroup;
    this.logGroup = context.logGroup;
  }
}

/** A record of the configuration found at create that cannot be written or read back. */
export class PriorConfigurationRecordError extends BedrockSpendError {
  /** The physical resource id concerned (cut to 120 characters). */
  readonly physicalResourceId: string;

  constructor(message: string, physicalResourceId: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PriorConfigurationRecordError";
    this.physicalResourceId = physicalResourceId.slice(0, 120);
  }
}

function s3ConfigOf(config: S3Config | undefined): S3Config | undefined {
  if (!config?.bucketName) return undefined;
  return { bucketName: config.bucketName, ...(config.keyPrefix ? { keyPrefix: config.keyPrefix } : {}) };
}

function cloudWatchConfigOf(config: CloudWatchConfig | undefined): CloudWatchConfig | undefined {
  if (!config?.logGroupName) return undefined;
  const largeData = s3ConfigOf(config.largeDataDeliveryS3Config);
  return { logGroupName: config.logGroupName, roleArn: config.roleArn, ...(largeData ? { largeDataDeliveryS3Config: largeData } : {}) };
}

/**
 * The configuration in one canonical form (fields in a fixed order, nothing undefined), or null
 * when it delivers nowhere (Bedrock keeps no setting without a destination).
 */
export function normalizeLoggingConfig(config: LoggingConfig | null | undefined): LoggingConfig | null {
  if (!config) return null;
  const cloudWatchConfig = cloudWatchConfigOf(config.cloudWatchConfig);
  const s3Config = s3ConfigOf(config.s3Config);
  if (!cloudWatchConfig && !s3Config) return null;
  const normalized: LoggingConfig = { ...(cloudWatchConfig ? { cloudWatchConfig } : {}), ...(s3Config ? { s3Config } : {}) };
  for (const name of DATA_DELIVERY_SWITCHES) if (typeof config[name] === "boolean") normalized[name] = config[name];
  return normalized;
}

/** Whether two configurations are the same setting. */
export function sameLoggingConfig(a: LoggingConfig | null, b: LoggingConfig | null): boolean {
  return JSON.stringify(normalizeLoggingConfig(a)) === JSON.stringify(normalizeLoggingConfig(b));
}

/** Whose CloudWatch destination the configuration has, seen from a stack that owns `ownRoles`. */
export type DestinationOwner = "none" | "ours" | "theirs-at-our-group" | "theirs";

/** Classifies the configuration's CloudWatch destination (see the module comment for "ours"). */
export function destinationOwner(config: LoggingConfig | null, target: LoggingTarget, ownRoles: ReadonlySet<string>): DestinationOwner {
  const destination = config?.cloudWatchConfig;
  if (!destination) return "none";
  if (destination.roleArn && ownRoles.has(destination.roleArn)) return "ours";
  return destination.logGroupName === target.logGroupName ? "theirs-at-our-group" : "theirs";
}

/**
 * Why a create may not proceed on `found`, as the deploy shows it: the setting delivers to another
 * log group, or to ours through someone else's role with text delivery off. Undefined: it may.
 */
export function conflictOf(found: LoggingConfig | null, target: LoggingTarget): BedrockLoggingConflictError | undefined {
  const owner = destinationOwner(found, target, new Set([target.roleArn]));
  const configured = found?.cloudWatchConfig?.logGroupName ?? "";
  const context = { configuredLogGroup: configured, logGroup: target.logGroupName };
  if (owner === "theirs") {
    const advice =
      found?.textDataDeliveryEnabled === true
        ? `To read the invocation logs Bedrock already writes there, deploy with ${EXISTING_LOG_GROUP}=${configured} and ${CONFIGURE_BEDROCK_LOGGING}=false.`
        : `To read the invocation logs Bedrock writes there, deploy with ${EXISTING_LOG_GROUP}=${configured} and ${CONFIGURE_BEDROCK_LOGGING}=false, after switching its text delivery on (bedrock-spend reads the text records).`;
    return new BedrockLoggingConflictError(
      `Bedrock model invocation logging in this account and Region already delivers to the log group ${configured}, not to ${target.logGroupName}; it is one setting per account and Region, and the deploy does not replace it. ${advice}`,
      context,
    );
  }
  if (owner === "theirs-at-our-group" && found?.textDataDeliveryEnabled !== true) {
    return new BedrockLoggingConflictError(
      `Bedrock model invocation logging already delivers to the log group ${configured} through the role ${found?.cloudWatchConfig?.roleArn}, with text delivery off; the deploy may pass only its own role, so it does not change that setting. Switch its text delivery on (bedrock-spend reads the text records) and deploy with ${EXISTING_LOG_GROUP}=${configured} and ${CONFIGURE_BEDROCK_LOGGING}=false.`,
      context,
    );
  }
  return undefined;
}

/**
 * The configuration with our CloudWatch destination and text delivery on, everything else as in
 * `current` (its S3 destination, its other data-type switches). Someone else's destination to our
 * log group stays as it is: it already delivers where we read, through a role we may not pass.
 * Nothing configured: the other data types are switched off explicitly, as the stack always did.
 */
export function withOurDestination(current: LoggingConfig | null, target: LoggingTarget, ownRoles: ReadonlySet<string>): LoggingConfig {
  const owner = destinationOwner(current, target, ownRoles);
  const destination = current?.cloudWatchConfig;
  const ours: CloudWatchConfig = {
    logGroupName: target.logGroupName,
    roleArn: target.roleArn,
    // Large-data delivery was set up for our role: it follows our destination.
    ...(owner === "ours" && destination?.largeDataDeliveryS3Config ? { largeDataDeliveryS3Config: destination.largeDataDeliveryS3Config } : {}),
  };
  const base: LoggingConfig = current ?? {
    imageDataDeliveryEnabled: false,
    embeddingDataDeliveryEnabled: false,
    videoDataDeliveryEnabled: false,
    audioDataDeliveryEnabled: false,
  };
  const cloudWatchConfig = owner === "theirs-at-our-group" ? destination : ours;
  return normalizeLoggingConfig({ ...base, cloudWatchConfig, textDataDeliveryEnabled: true }) as LoggingConfig;
}

/**
 * What the stack found before it changed anything, to give back at delete. A destination of ours
 * found at create (a re-run, or the setting the replaced AwsCustomResource wrote) is not part of it:
 * what came before that is unknown, and our destination is ours to remove.
 */
export function priorOf(found: LoggingConfig | null, target: LoggingTarget): LoggingConfig | null {
  if (destinationOwner(found, target, new Set([target.roleArn])) !== "ours") return found;
  const { cloudWatchConfig: _ours, ...rest } = found as LoggingConfig;
  return normalizeLoggingConfig(rest);
}

/**
 * The configuration to leave at delete: `current` with our CloudWatch destination replaced by the
 * one found at create (none: removed) and text delivery as it was found. What is not ours (the S3
 * destination, the other switches) stays as it is now, changed since or not. Null: nothing left
 * to deliver to, the setting is to be deleted.
 */
export function restoredConfig(current: LoggingConfig, prior: LoggingConfig | null): LoggingConfig | null {
  const { cloudWatchConfig: _ours, textDataDeliveryEnabled, ...others } = current;
  return normalizeLoggingConfig({
    ...others,
    ...(prior?.cloudWatchConfig ? { cloudWatchConfig: prior.cloudWatchConfig } : {}),
    // No prior setting: an S3 destination added since keeps the text delivery it was added with.
    textDataDeliveryEnabled: prior ? prior.textDataDeliveryEnabled : textDataDeliveryEnabled,
  });
}

/** The prefix of our physical resource ids; the version lets a later format read this one. */
const RECORD_PREFIX = "bedrock-invocation-logging:v1:";
const NOTHING_FOUND = "none";
/** CloudFormation's limit on a custom resource's physical id. */
export const MAX_PHYSICAL_RESOURCE_ID = 1024;

/**
 * The physical resource id that records the configuration found at create: the prefix, then
 * `none` or the configuration as raw-deflated JSON in base64url. Delete gets neither the create's
 * `Data` nor its properties' values at the time; it does get the physical id, which CloudFormation
 * keeps with the resource and hands to every update, delete and rollback. An SSM parameter would
 * hold more, but it is state beside the stack (deleted or edited on its own, left behind by a
 * failed removal) and one more permission; the id cannot part from the resource. Its price is
 * CloudFormation's 1 KB: checked here, before anything is changed (a console-made setting with
 * both destinations and large-data delivery takes about 330 characters).
 */
export function recordPrior(prior: LoggingConfig | null): string {
  const normalized = normalizeLoggingConfig(prior);
  const id = `${RECORD_PREFIX}${normalized ? deflateRawSync(JSON.stringify(normalized), { level: 9 }).toString("base64url") : NOTHING_FOUND}`;
  if (id.length > MAX_PHYSICAL_RESOURCE_ID) {
    throw new PriorConfigurationRecordError(
      `The Bedrock logging setting found (${JSON.stringify(normalized)}) is too long to record in the custom resource's physical id (${id.length} > ${MAX_PHYSICAL_RESOURCE_ID} characters), so the deploy would not be able to give it back at removal; nothing was changed. Add the CloudWatch destination yourself and deploy with ${CONFIGURE_BEDROCK_LOGGING}=false.`,
      id,
    );
  }
  return id;
}

/**
 * The configuration a physical resource id records: null for `none`, undefined when the id is
 * not one of ours (e.g. the provider framework's marker of a failed create).
 */
export function readPrior(physicalResourceId: string): LoggingConfig | null | undefined {
  if (!physicalResourceId.startsWith(RECORD_PREFIX)) return undefined;
  const payload = physicalResourceId.slice(RECORD_PREFIX.length);
  if (payload === NOTHING_FOUND) return null;
  try {
    return normalizeLoggingConfig(JSON.parse(inflateRawSync(Buffer.from(payload, "base64url")).toString("utf8")) as LoggingConfig);
  } catch (error) {
    throw new PriorConfigurationRecordError("The physical id does not decode to a Bedrock logging configuration", physicalResourceId, { cause: error });
  }
}
