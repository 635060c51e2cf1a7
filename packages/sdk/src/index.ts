/**
 * @bedrock-spend/sdk: per-tenant attribution and a budget guard for Amazon Bedrock calls made with
 * the AWS SDK for JavaScript v3. Wrap the client once:
 *
 * ```ts
 * client.middlewareStack.use(tenantMetadata({ metadata: { applicationId: "support-bot" } }));
 * await runWithTenant({ tenantId: "acme" }, () => client.send(new ConverseCommand(input)));
 * ```
 */

export { type CallPriority, currentTenant, runWithTenant, type TenantContext, withMetadata, withPriority } from "./context";
export {
  BedrockSpendSdkError,
  BudgetExceededError,
  type BudgetLimit,
  BudgetLookupError,
  type BudgetLookupFailure,
  InvalidOptionsError,
  MissingTenantError,
  RequestMetadataError,
  type RequestMetadataErrorDetails,
  type RequestMetadataReason,
} from "./errors";
export { type BudgetDecision, BudgetGuard, type BudgetGuardOptions, type LookupErrorPolicy, type MonthStatus, monthOf, type SpendSource } from "./guard";
export {
  checkRequestMetadata,
  DEFAULT_METADATA_KEYS,
  MAX_REQUEST_METADATA_ENTRIES,
  MAX_REQUEST_METADATA_HEADER_LENGTH,
  MAX_REQUEST_METADATA_LENGTH,
  type MetadataChange,
  type MetadataKeys,
  type MetadataLayers,
  type MetadataPolicy,
  mergeMetadataLayers,
  type SanitizeReason,
  type SanitizeReport,
  sanitizeMetadataText,
  sanitizeRequestMetadata,
} from "./metadata";
export {
  type BedrockSpendPlugin,
  MIDDLEWARE_NAMES,
  type MissingTenantPolicy,
  REQUEST_METADATA_HEADER,
  type SdkWarning,
  type TenantMetadataOptions,
  tenantMetadata,
} from "./plugin";
export { type AggregatesTableSourceOptions, aggregatesTableSource, type DynamoDbClientLike } from "./sources/aggregates-table";
export {
  type AwsCredentials,
  type SpendApiClient,
  SpendApiError,
  type SpendApiSourceOptions,
  type SpendReportGroup,
  type SpendReportPage,
  type SpendReportQuery,
  spendApiClient,
  spendApiSource,
} from "./sources/spend-api";
