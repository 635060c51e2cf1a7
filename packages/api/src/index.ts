/**
 * The spend API, independent of the transport: the request handler and its dependencies, the
 * request and response shapes, the route table (the one docs/openapi.yaml is checked against) and
 * the adapter of Lambda payload 2.0 events. Logging, metrics and configuration belong to the
 * transport (functions/src/spend-api.ts on AWS, the local server on 127.0.0.1).
 */
export {
  apiGatewayResultOf,
  apiRequestOf,
  type EventAdapterOptions,
  type PathEncoding,
  type PayloadV2Event,
  type PayloadV2Result,
} from "./apigw";
export { handleSpendApi, type RepriceAuditSource, type SpendApiDeps, type SpendApiObserver, type SpendApiRequestInfo } from "./handler";
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
  payloadTooLarge,
} from "./http";
export { ADMIN_OPERATIONS, SPEND_API_ROUTES, type SpendApiOperation, type SpendApiRoute, WRITE_OPERATIONS } from "./routes";
export { isScopeToken, SCOPE_CLAIMS, SCOPE_TOKEN, scopesOf } from "./scopes";
export type { BudgetResource, SpendApiStore } from "./service";
