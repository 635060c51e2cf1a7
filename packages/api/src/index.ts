/**
 * The spend API, independent of the transport: the request handler and its dependencies, the
 * request and response shapes, the route table (the one docs/openapi.yaml is checked against) and
 * the adapter of Lambda payload 2.0 events. Logging, metrics and configuration belong to the
 * transport (functions/src/spend-api.ts on AWS, the local server on 127.0.0.1).
 *
 * The OpenAPI document generator is `@bedrock-spend/api/openapi` (openapi.ts), not exported here:
 * what imports the handler (the spend API Lambda) does not carry it.
 */
export {
  apiGatewayResultOf,
  apiRequestOf,
  type EventAdapterOptions,
  type PathEncoding,
  type PayloadV2Event,
  type PayloadV2Result,
} from "./apigw";
export { handleSpendApi, instanceOf, type RepriceAuditSource, type SpendApiDeps, type SpendApiObserver, type SpendApiRequestInfo } from "./handler";
export {
  type ApiAuth,
  ApiError,
  type ApiErrorCode,
  type ApiRequest,
  type ApiResponse,
  errorResponse,
  isOversizedBody,
  jsonResponse,
  MAX_REQUEST_BODY_BYTES,
  PROBLEM_TYPES,
  type ProblemDetails,
  payloadTooLarge,
} from "./http";
export { decodeCursor, encodeCursor, type Report, type ReportGroup, type ReportSources } from "./report";
export { type LakeGroups, type LakeQuery, LakeReportError, lakeGroupsOf, lakeReportSql, type ReportLake, sqlReportLake } from "./report-lake";
export { ADMIN_OPERATIONS, CROSS_TENANT_OPERATIONS, SPEND_API_ROUTES, type SpendApiOperation, type SpendApiRoute, WRITE_OPERATIONS } from "./routes";
export { REPORT_GROUP_BY, type ReportGroupBy, SPEND_BY, type SpendBy } from "./schemas";
export { isScopeToken, SCOPE_CLAIMS, SCOPE_TOKEN, scopesOf } from "./scopes";
export type { BudgetResource, SpendAnswer, SpendApiStore } from "./service";
