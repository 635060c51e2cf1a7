/**
 * The spend API as a spend source: `GET {baseUrl}/v1/tenants/{tenantId}/spend?month=YYYY-MM`,
 * optionally SigV4-signed (IAM-auth Lambda Function URL) and/or with headers of your own (a JWT for
 * the HTTP API).
 */
import { formatUsd } from "@bedrock-spend/core/money";
import { InvalidOptionsError } from "../errors";
import type { MonthStatus, SpendSource } from "../guard";

/** AWS credentials for SigV4 (the shape the AWS SDK's credential providers return). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}

/** Options of `spendApiSource`. */
export interface SpendApiSourceOptions {
  /** The API's base URL: the Function URL or the HTTP API's (stage) URL; `http://127.0.0.1:8787` locally. */
  baseUrl: string | URL;
  /** Sign requests with SigV4 (for an IAM-auth Function URL). */
  signing?: {
    /** Region of the Function URL. */
    region: string;
    /** Credentials, or a provider of them (e.g. `bedrockClient.config.credentials`). */
    credentials: AwsCredentials | (() => Promise<AwsCredentials>);
    /** Signing name. Default `lambda` (Function URLs). */
    service?: string;
  };
  /** Extra headers for every request, e.g. `async () => ({ authorization: \`Bearer ${await token()}\` })`. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Per-request timeout, ms (the guard has its own too). Default 2,000. */
  timeoutMs?: number;
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
}

interface SignerLike {
  sign(request: unknown): Promise<{ headers: Record<string, string> }>;
}

/** What one GET of the API answered: its status and parsed JSON body. */
interface ApiAnswer {
  status: number;
  body: unknown;
  path: string;
}

type Getter = (route: string, query: Record<string, string | undefined>, signal?: AbortSignal) => Promise<ApiAnswer>;

/** A GET of the API, signed and/or with the hook's headers, as `options` say; `name` names the options in errors. */
function apiGetter(options: SpendApiSourceOptions, name: string): Getter {
  if (typeof options !== "object" || options === null) throw new InvalidOptionsError(name, "must be an object with a baseUrl");
  let base: URL;
  try {
    base = new URL(String(options.baseUrl));
  } catch (error) {
    throw new InvalidOptionsError(`${name}.baseUrl`, `must be an absolute http(s) URL, got ${JSON.stringify(String(options.baseUrl))}`, {
      cause: error,
    });
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") throw new InvalidOptionsError(`${name}.baseUrl`, `must be http or https, got ${base.protocol}`);
  if (base.search !== "" || base.hash !== "") throw new InvalidOptionsError(`${name}.baseUrl`, "must not have a query or a fragment");
  const timeoutMs = options.timeoutMs ?? 2_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new InvalidOptionsError(`${name}.timeoutMs`, `must be a positive integer, got ${JSON.stringify(timeoutMs)}`);
  const signing = options.signing;
  if (signing !== undefined && (typeof signing.region !== "string" || signing.region.length === 0 || signing.credentials === undefined)) {
    throw new InvalidOptionsError(`${name}.signing`, "needs a region and credentials");
  }
  if (options.headers !== undefined && typeof options.headers !== "function") throw new InvalidOptionsError(`${name}.headers`, "must be a function");
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") throw new InvalidOptionsError(`${name}.fetch`, "no fetch implementation (Node.js 18+ has one)");
  const prefix = base.pathname.replace(/\/+$/, "");
  let signer: Promise<SignerLike> | undefined;

  const getSigner = (): Promise<SignerLike> => {
    signer ??= (async () => {
      const [{ SignatureV4 }, { Sha256 }] = await Promise.all([import("@smithy/signature-v4"), import("@aws-crypto/sha256-js")]);
      const credentials = signing?.credentials;
      return new SignatureV4({
        service: signing?.service ?? "lambda",
        region: signing?.region ?? "",
        credentials: typeof credentials === "function" ? credentials : async () => credentials as AwsCredentials,
        sha256: Sha256,
      }) as SignerLike;
    })();
    return signer;
  };

  return async (route, rawQuery, signal) => {
    const path = `${prefix}${route}`;
    const query = Object.fromEntries(Object.entries(rawQuery).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const url = new URL(base.href);
    url.pathname = path;
    const search = Object.entries(query)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join("&");
    url.search = search === "" ? "" : `?${search}`;
    let headers: Record<string, string> = { accept: "application/json", ...(await options.headers?.()) };
    if (signing) {
      const signed = await (await getSigner()).sign({
        method: "GET",
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path,
        query,
        headers: { ...headers, host: base.host },
      });
      // fetch sets Host itself, to the same value.
      const { host: _host, ...rest } = signed.headers;
      headers = rest;
    }
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    const response = await fetchImpl(url, { method: "GET", headers, signal: AbortSignal.any(signals), redirect: "error" });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`GET ${path} answered ${response.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
    }
    return { status: response.status, body, path };
  };
}

/** A `SpendSource` reading the spend API. The SigV4 signer is loaded only when `signing` is set. */
export function spendApiSource(options: SpendApiSourceOptions): SpendSource {
  const get = apiGetter(options, "spendApiSource");
  return {
    async monthStatus(tenantId, month, lookup = {}) {
      // Encoded exactly once: the API decodes the segment once (a `#` or `/` in a tenant id stays in the id).
      const { status, body, path } = await get(`/v1/tenants/${encodeURIComponent(tenantId)}/spend`, { month }, lookup.signal);
      if (status === 404 && isUnknownTenant(body)) return { spendUsd: formatUsd(0n), budget: null };
      if (status !== 200) {
        const error = problemOf(body);
        throw new Error(
          `GET ${path} answered ${status}${error.code ? ` ${error.code}` : ""}${error.message ? `: ${error.message}` : ""}${error.requestId ? ` (request id ${error.requestId})` : ""}`,
        );
      }
      return statusOf(body, path);
    },
  };
}

/** An error answer of the spend API, from its RFC 9457 problem details. */
export class SpendApiError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** `BadRequest`, `Forbidden`, `NotFound`, ... (undefined when the body was not problem details). */
  readonly code: string | undefined;
  /** The request id to quote when reporting the problem. */
  readonly requestId: string | undefined;
  /** The input at fault. */
  readonly field: string | undefined;
  /** The values that input may take. */
  readonly allowed: readonly string[] | undefined;

  constructor(path: string, status: number, body: unknown) {
    const problem = problemOf(body);
    super(`GET ${path} answered ${status}${problem.code ? ` ${problem.code}` : ""}${problem.message ? `: ${problem.message}` : ""}`);
    this.name = "SpendApiError";
    this.status = status;
    this.code = problem.code;
    this.requestId = problem.requestId;
    const details = body as { field?: unknown; allowed?: unknown } | null;
    this.field = typeof details?.field === "string" ? details.field : undefined;
    this.allowed = Array.isArray(details?.allowed) ? details.allowed.filter((value): value is string => typeof value === "string") : undefined;
  }
}

/** One group of `GET /v1/spend`. */
export interface SpendReportGroup {
  key: string;
  invocations: number;
  unpricedInvocations: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Exact decimal USD. */
  costUsd: string;
}

/** A page of `GET /v1/spend`. */
export interface SpendReportPage {
  period: string;
  groupBy: string;
  groups: SpendReportGroup[];
  nextCursor: string | null;
  asOf: string | null;
}

/** The query of `GET /v1/spend`: a month, or from/to (days or months, inclusive). */
export interface SpendReportQuery {
  month?: string;
  from?: string;
  to?: string;
  groupBy?: "tenant" | "tenantGroup" | "department" | "application" | "user" | "model";
  limit?: number;
  cursor?: string;
}

/** A client of the spend API's read routes (same options as `spendApiSource`). Bodies are returned as the API sends them. */
export interface SpendApiClient {
  /** `GET /v1/tenants/{tenantId}/spend`: the tenant's spend (zeros when nothing is counted), with asOf and forecast. */
  spend(tenantId: string, query?: { month?: string; day?: string; by?: string }): Promise<Record<string, unknown>>;
  /** `GET /v1/tenants/{tenantId}/alerts`: the alerts fired for the tenant, newest first. */
  alerts(tenantId: string, query?: { month?: string }): Promise<{ tenantId: string; alerts: Record<string, unknown>[] }>;
  /** `GET /v1/spend`: one page of spend across tenants (IAM callers, or a token with the admin scope). */
  report(query?: SpendReportQuery): Promise<SpendReportPage>;
  /** Every group of a report, page after page (following `nextCursor`), in the API's order. */
  reportGroups(query?: Omit<SpendReportQuery, "cursor">): AsyncGenerator<SpendReportGroup>;
}

/** A client of the spend API's read routes. Errors are `SpendApiError`s. */
export function spendApiClient(options: SpendApiSourceOptions): SpendApiClient {
  const get = apiGetter(options, "spendApiClient");
  const read = async <T>(route: string, query: Record<string, string | undefined>): Promise<T> => {
    const { status, body, path } = await get(route, query);
    if (status !== 200) throw new SpendApiError(path, status, body);
    return body as T;
  };
  const reportQuery = (query: SpendReportQuery) => ({ ...query, limit: query.limit === undefined ? undefined : String(query.limit) });
  return {
    spend: (tenantId, query = {}) => read(`/v1/tenants/${encodeURIComponent(tenantId)}/spend`, query),
    alerts: (tenantId, query = {}) => read(`/v1/tenants/${encodeURIComponent(tenantId)}/alerts`, query),
    report: (query = {}) => read("/v1/spend", reportQuery(query)),
    async *reportGroups(query = {}) {
      let cursor: string | undefined;
      do {
        const page: SpendReportPage = await read("/v1/spend", reportQuery({ ...query, ...(cursor === undefined ? {} : { cursor }) }));
        yield* page.groups;
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    },
  };
}

/**
 * An error body: RFC 9457 problem details (`code`, `detail`, `requestId`), or the
 * `{"error":{"code","message"}}` of an API deployed before them.
 */
function problemOf(body: unknown): { code?: string; message?: string; requestId?: string } {
  const problem = body as { code?: unknown; detail?: unknown; requestId?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  const legacy = problem?.error;
  const code = text(problem?.code) ?? text(legacy?.code);
  const message = text(problem?.detail) ?? text(legacy?.message);
  const requestId = text(problem?.requestId);
  return { ...(code ? { code } : {}), ...(message ? { message } : {}), ...(requestId ? { requestId } : {}) };
}

/**
 * The API answers a tenant with nothing counted with zeros (200). An API deployed before that
 * answered 404 NotFound for a tenant it had no item of (nothing to guard), as it does for a path
 * it has no route for; a wrong base URL may also reach some other 404. Only the first is "nothing
 * to guard": it is recognized by the API's message for it, so that a misconfigured URL fails the
 * lookup.
 */
function isUnknownTenant(body: unknown): boolean {
  const error = problemOf(body);
  return error.code === "NotFound" && error.message !== undefined && error.message.startsWith("no usage or budget is recorded");
}

function statusOf(body: unknown, path: string): MonthStatus {
  const spend = body as { costUsd?: unknown; budget?: unknown } | null;
  if (typeof spend?.costUsd !== "string") throw new Error(`GET ${path}: the answer has no costUsd string`);
  const budget = spend.budget as { monthlyUsd?: unknown } | null | undefined;
  if (budget === null || budget === undefined) return { spendUsd: spend.costUsd, budget: null };
  if (typeof budget.monthlyUsd !== "string") throw new Error(`GET ${path}: the answer's budget has no monthlyUsd string`);
  return { spendUsd: spend.costUsd, budget: { monthlyUsd: budget.monthlyUsd } };
}
