/**
 * The dashboard's HTTP server (node:http, loopback only): the page and its static files, the
 * dashboard's JSON routes, the tenant lookup, and the spend API (`/v1/*`) delegated to the
 * transport-independent handler. No authentication, so it refuses to listen on anything but a
 * loopback address, and it answers only requests addressed to that address by name (a page on
 * another site that rebinds its DNS name to 127.0.0.1 gets a 403, not the data).
 *
 * Routes:
 * - `GET /` and `GET /<file>`: public/ (index.html, app.js, style.css, favicon.svg)
 * - `GET /vendor/echarts.min.js`: ECharts from node_modules (no CDN)
 * - `GET /api/dashboard?year=&month=&tenant=&model=` -> `DashboardResponse`
 * - `GET /api/performance?year=&month=&tenant=&model=` -> `PerformanceResponse` (latency, errors and throughput per model)
 * - `GET /api/filters` -> `FilterResponse` (the options, and the server's clock as `asOf`)
 * - `GET /api/alerts?since=<ISO 8601>` -> `AlertItem[]`
 * - `GET /api/tenants/{tenantId}?month=YYYY-MM` -> `TenantLookup`
 * - `GET /api/reconcile` -> `ReconcileResponse` (the last reconciliation of the bill with the logs)
 * - `* /v1/...` -> the spend API
 */

import { randomUUID } from "node:crypto";
import { readFile, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { type ApiRequest, type ApiResponse, errorResponse, instanceOf, MAX_REQUEST_BODY_BYTES, payloadTooLarge } from "@bedrock-spend/api";
import {
  BedrockSpendError,
  budgetPico,
  type Clock,
  formatUsd,
  monthEndForecast,
  parseUsd,
  type Spend,
  systemClock,
  thresholdPico,
  utcMonthOf,
} from "@bedrock-spend/core";
import { ReconcileFileError } from "./reconcile-file";
import { summarizeReconciliation } from "./reconcile-summary";
import type {
  DashboardData,
  DashboardErrorBody,
  DashboardFilters,
  FilterResponse,
  PerformanceResponse,
  ReconcileNotLoaded,
  ReconcileResponse,
  ReconciliationSource,
  SampleDataInfo,
  SampleDataResponse,
  SpendApiHandler,
  TenantLookup,
  ThresholdState,
} from "./types";

/** What the server needs. */
export interface DashboardServerDeps {
  data: DashboardData;
  /** The spend API: `(request) => handleSpendApi(request, { ...deps, allowUnauthenticated: true })`. */
  spendApi: SpendApiHandler;
  /**
   * The last reconciliation of the bill with the logs (`reconcileFileSource(reconcileFileOf(dataDir))`).
   * Without it, `GET /api/reconcile` answers that no bill is loaded.
   */
  reconciliation?: ReconciliationSource;
  /**
   * Whether the data shown is generated sample data (local mode's first start): its marker, or
   * null. `GET /api/sample` answers it; the page shows a "sample data" badge while it is not null.
   */
  sampleData?: () => Promise<SampleDataInfo | null>;
  /** Clock of the tenant lookup (default month, forecast). */
  now?: Clock;
  /** Directory of the page's files. Default: the package's public/. */
  publicDir?: string;
  /** ECharts' minified UMD build. Default: `echarts/dist/echarts.min.js` from node_modules. */
  echartsFile?: string;
  /** Told of every unexpected error (answered as a generic 500). Must not throw. */
  onError?: (error: unknown, request: { method: string; path: string }) => void;
}

/** A dashboard server. */
export interface DashboardServer {
  /** Listens on a loopback address (default 127.0.0.1; port 0 picks a free port). */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Time limits of the server's connections, in ms: a whole request, its headers, and an idle
 * keep-alive connection. A client that sends slowly or never finishes is cut off, not waited for.
 */
export const SERVER_TIMEOUTS = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 } as const;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/** Headers of every response. */
const BASE_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "x-frame-options": "DENY",
};

/** The page loads nothing from anywhere but this server. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

const MONTH_KEY = /^\d{4}-(0[1-9]|1[0-2])$/;
const MAX_FILTER_LENGTH = 256;

/** A response of the dashboard's own routes. */
interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** A request the dashboard server answers with an error status (a 500 only for a known cause, such as a malformed data file; other 500s are bugs). */
class HttpError extends BedrockSpendError {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function errorReply(error: HttpError): Reply {
  const body: DashboardErrorBody = { error: { code: error.code, message: error.message, ...(error.field === undefined ? {} : { field: error.field }) } };
  return json(error.statusCode, body, error.headers);
}

const notFound = (what: string) => new HttpError(404, "NotFound", `no such ${what}`);
const badRequest = (field: string, message: string) => new HttpError(400, "BadRequest", message, field);

/** What the page shows when no bill is loaded. */
export const RECONCILE_HINT = "run `bedrock-spend reconcile --cur PATH --data-dir DIR`";

/** Default location of ECharts' minified build (the package's `require` entry is dist/echarts.js). */
function defaultEchartsFile(): string {
  return join(dirname(createRequire(import.meta.url).resolve("echarts")), "echarts.min.js");
}

/** Reads the query string, refusing parameters the route does not take and repeated ones; empty values are absent. */
function readQuery(raw: string, allowed: readonly string[]): Record<string, string | undefined> {
  const params = new URLSearchParams(raw);
  const query: Record<string, string | undefined> = {};
  for (const name of new Set(params.keys())) {
    if (!allowed.includes(name)) {
      throw badRequest(name, `unknown query parameter ${JSON.stringify(name.slice(0, 40))}; this route takes ${allowed.join(", ") || "none"}`);
    }
    const values = params.getAll(name);
    if (values.length > 1) throw badRequest(name, `${name} is given ${values.length} times`);
    const value = values[0]?.trim();
    if (value) query[name] = value;
  }
  return query;
}

/** Parses the dashboard filters of a query string. */
export function parseFilters(rawQuery: string): DashboardFilters {
  const query = readQuery(rawQuery, ["year", "month", "tenant", "model"]);
  const filters: DashboardFilters = { year: null, month: null, tenant: null, model: null };
  if (query.year !== undefined) {
    if (!/^\d{4}$/.test(query.year)) throw badRequest("year", `year must be a four-digit year, got ${JSON.stringify(query.year.slice(0, 20))}`);
    filters.year = Number(query.year);
  }
  if (query.month !== undefined) {
    const month = /^\d{1,2}$/.test(query.month) ? Number(query.month) : Number.NaN;
    if (!(month >= 1 && month <= 12)) throw badRequest("month", `month must be 1-12, got ${JSON.stringify(query.month.slice(0, 20))}`);
    filters.month = month;
  }
  for (const field of ["tenant", "model"] as const) {
    const value = query[field];
    if (value === undefined) continue;
    if (value.length > MAX_FILTER_LENGTH) throw badRequest(field, `${field} is longer than ${MAX_FILTER_LENGTH} characters`);
    filters[field] = value;
  }
  return filters;
}

function percentOf(part: bigint, whole: bigint): number {
  // Two decimals, truncated; only for display (the amounts themselves stay exact strings).
  return whole === 0n ? 0 : Number((part * 10_000n) / whole) / 100;
}

/** A tenant's month spend (the spend API's answer) against its budget. */
export function tenantLookupOf(spend: Spend, month: string, now: number): TenantLookup {
  const spendPico = parseUsd(spend.costUsd) ?? 0n;
  const forecastPico = monthEndForecast(spendPico, month, now);
  const budget = spend.budget;
  const forecastUsd = forecastPico === null ? null : formatUsd(forecastPico);
  const common = { tenantId: spend.tenantId, month, asOf: new Date(now).toISOString(), spend, budget, forecastUsd };
  if (budget === null) {
    return { ...common, percentUsed: null, remainingUsd: null, forecastPercent: null, thresholds: [], status: "no-budget" };
  }
  const monthly = budgetPico(budget);
  const thresholds: ThresholdState[] = budget.thresholds.map((percent) => {
    const amount = thresholdPico(budget, percent);
    return { percent, amountUsd: formatUsd(amount, 2), reached: spendPico >= amount };
  });
  const status =
    spendPico >= monthly ? "over" : (forecastPico !== null && forecastPico > monthly) || thresholds.some((threshold) => threshold.reached) ? "warning" : "ok";
  return {
    ...common,
    percentUsed: percentOf(spendPico, monthly),
    remainingUsd: formatUsd(monthly - spendPico),
    forecastPercent: forecastPico === null ? null : percentOf(forecastPico, monthly),
    thresholds,
    status,
  };
}

function bodyTooLarge(): HttpError {
  // The rest of the body is never read: the connection closes after the 413.
  return new HttpError(413, "PayloadTooLarge", `the request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`, "body", { connection: "close" });
}

/**
 * Reads a request's body up to `MAX_REQUEST_BODY_BYTES`: a larger declared length is refused
 * before any of it is read, and a body that grows past the cap is refused as it does, unread.
 */
function readBody(request: IncomingMessage): Promise<string | null> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > MAX_REQUEST_BODY_BYTES) return Promise.reject(bodyTooLarge());
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        request.off("data", onData);
        request.pause();
        reject(bodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    request.on("data", onData);
    request.on("end", () => resolveBody(size === 0 ? null : Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function hostOf(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** Creates the dashboard server. */
export function createDashboardServer(deps: DashboardServerDeps): DashboardServer {
  const now = deps.now ?? systemClock;
  const publicDir = resolve(deps.publicDir ?? fileURLToPath(new URL("../public/", import.meta.url)));
  const echartsFile = deps.echartsFile ?? defaultEchartsFile();
  /** `Host` values this server answers to (set by `listen`). */
  let allowedHosts = new Set<string>();

  async function staticFile(path: string, method: string): Promise<Reply> {
    if (method !== "GET" && method !== "HEAD") throw new HttpError(405, "MethodNotAllowed", `${method} is not allowed here`, undefined, { allow: "GET, HEAD" });
    let file: string;
    if (path === "/vendor/echarts.min.js") file = echartsFile;
    else {
      let decoded: string;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        throw badRequest("path", "the path is not valid percent-encoding");
      }
      if (decoded.includes("\0") || decoded.includes("\\")) throw badRequest("path", "the path has characters a file name here cannot have");
      const segments = decoded.split("/").filter((segment) => segment !== "");
      // No `..`, no `.`, no hidden files: nothing outside public/ and nothing private inside it.
      if (segments.some((segment) => segment.startsWith("."))) throw notFound("file");
      file = resolve(publicDir, ...(segments.length === 0 ? ["index.html"] : segments));
      if (!file.startsWith(publicDir + sep)) throw notFound("file");
      try {
        const real = await realpath(file);
        if (!real.startsWith((await realpath(publicDir)) + sep)) throw notFound("file");
      } catch (error) {
        if (error instanceof HttpError) throw error;
        throw notFound("file");
      }
    }
    const type = CONTENT_TYPES[extname(file).toLowerCase()];
    if (type === undefined) throw notFound("file");
    try {
      if (!(await stat(file)).isFile()) throw notFound("file");
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw notFound("file");
    }
    const body = await readFile(file);
    const headers: Record<string, string> = { "content-type": type, "cache-control": "no-cache" };
    if (type.startsWith("text/html")) headers["content-security-policy"] = CONTENT_SECURITY_POLICY;
    return { statusCode: 200, headers, body };
  }

  async function lookup(rawTenant: string, rawQuery: string): Promise<Reply> {
    const query = readQuery(rawQuery, ["month"]);
    const month = query.month ?? utcMonthOf(now());
    if (!MONTH_KEY.test(month)) throw badRequest("month", `month must be YYYY-MM (UTC), got ${JSON.stringify(month.slice(0, 20))}`);
    const request: ApiRequest = {
      method: "GET",
      path: `/v1/tenants/${rawTenant}/spend`,
      query: { month, by: "day" },
      body: null,
      auth: { mode: "none" },
    };
    const response = await deps.spendApi(request);
    // The spend API's own errors (an invalid id or month) reach the page in the dashboard's error shape.
    if (response.statusCode !== 200) {
      const problem = JSON.parse(response.body) as { code?: string; detail?: string; field?: string };
      throw new HttpError(response.statusCode, problem.code ?? "Error", problem.detail ?? "the spend API refused the lookup", problem.field);
    }
    return json(200, tenantLookupOf(JSON.parse(response.body) as Spend, month, now()));
  }

  /**
   * The last reconciliation, summed by day and model. No bill loaded is the usual state, not an
   * error: it is a 200 (the page asks every few seconds, and a 404 would log a console error each time).
   */
  async function reconciliation(): Promise<ReconcileResponse> {
    const source = deps.reconciliation;
    const notLoaded: ReconcileNotLoaded = { loaded: false, location: source?.location ?? null, hint: RECONCILE_HINT };
    if (source === undefined) return notLoaded;
    try {
      const snapshot = await source.read();
      return snapshot === undefined ? notLoaded : summarizeReconciliation(snapshot, source.location);
    } catch (error) {
      if (error instanceof ReconcileFileError) throw new HttpError(500, "InvalidReconcileFile", error.message, error.field);
      throw error;
    }
  }

  async function api(path: string, rawQuery: string, method: string): Promise<Reply> {
    const tenantMatch = /^\/api\/tenants\/([^/]+)$/.exec(path);
    const known = tenantMatch !== null || ["/api/dashboard", "/api/performance", "/api/filters", "/api/alerts", "/api/reconcile", "/api/sample"].includes(path);
    if (!known) throw notFound("route");
    if (method !== "GET" && method !== "HEAD")
      throw new HttpError(405, "MethodNotAllowed", `${method} is not allowed on ${path}`, undefined, { allow: "GET, HEAD" });
    if (tenantMatch) return lookup(tenantMatch[1] as string, rawQuery);
    switch (path) {
      case "/api/dashboard":
        return json(200, await deps.data.dashboard(parseFilters(rawQuery)));
      case "/api/performance": {
        const filters = parseFilters(rawQuery);
        return json(200, { filters, models: await deps.data.performance(filters) } satisfies PerformanceResponse);
      }
      case "/api/filters":
        readQuery(rawQuery, []);
        return json(200, { ...(await deps.data.filters()), asOf: new Date(now()).toISOString() } satisfies FilterResponse);
      case "/api/reconcile":
        readQuery(rawQuery, []);
        return json(200, await reconciliation());
      case "/api/sample": {
        readQuery(rawQuery, []);
        const marker = (await deps.sampleData?.()) ?? null;
        const answer: SampleDataResponse =
          marker === null
            ? { sample: false }
            : {
                sample: true,
                complete: marker.complete,
                from: marker.from,
                to: marker.to,
                days: marker.days,
                records: marker.records,
                budgets: marker.budgets,
                hint: marker.hint,
              };
        return json(200, answer);
      }
      default: {
        const { since } = readQuery(rawQuery, ["since"]);
        let sinceIso: string | undefined;
        if (since !== undefined) {
          const time = Date.parse(since);
          if (Number.isNaN(time)) throw badRequest("since", `since must be an ISO 8601 time, got ${JSON.stringify(since.slice(0, 40))}`);
          sinceIso = new Date(time).toISOString();
        }
        return json(200, await deps.data.alerts(sinceIso));
      }
    }
  }

  async function spendApi(request: IncomingMessage, path: string, rawQuery: string, method: string): Promise<ApiResponse> {
    const requestId = randomUUID();
    let body: string | null;
    try {
      body = await readBody(request);
    } catch (error) {
      // The API's errors are problem details here too, the 413 of a body refused before the API sees it included.
      if (!(error instanceof HttpError) || error.statusCode !== 413) throw error;
      const problem = errorResponse(payloadTooLarge(), { requestId, instance: instanceOf(requestId) });
      return { ...problem, headers: { ...problem.headers, ...error.headers, "x-request-id": requestId } };
    }
    const query: Record<string, string | undefined> = {};
    for (const [name, value] of new URLSearchParams(rawQuery)) query[name] ??= value;
    return deps.spendApi({ method, path, query, body, auth: { mode: "none" }, requestId });
  }

  async function answer(request: IncomingMessage): Promise<Reply> {
    const method = (request.method ?? "GET").toUpperCase();
    const host = request.headers.host;
    if (host === undefined || !allowedHosts.has(host.toLowerCase())) {
      throw new HttpError(403, "Forbidden", "this server answers only requests addressed to its loopback address");
    }
    const origin = request.headers.origin;
    // `Origin: null` is what a sandboxed iframe or a file:// page sends: an opaque origin, so not this one.
    if (origin !== undefined && !allowedHosts.has(origin.replace(/^http:\/\//, "").toLowerCase())) {
      throw new HttpError(403, "Forbidden", "cross-origin requests are not served");
    }
    const target = request.url ?? "/";
    const queryAt = target.indexOf("?");
    const path = queryAt === -1 ? target : target.slice(0, queryAt);
    const rawQuery = queryAt === -1 ? "" : target.slice(queryAt + 1);
    if (!path.startsWith("/")) throw badRequest("path", "the request target must be a path");
    if (path === "/v1" || path.startsWith("/v1/")) return spendApi(request, path, rawQuery, method);
    if (path === "/api" || path.startsWith("/api/")) return api(path, rawQuery, method);
    return staticFile(path, method);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await answer(request);
    } catch (error) {
      if (error instanceof HttpError) reply = errorReply(error);
      else {
        try {
          deps.onError?.(error, { method: request.method ?? "", path: (request.url ?? "").split("?")[0] ?? "" });
        } catch {
          // The observer must not throw; if it does, the client still gets its 500.
        }
        reply = errorReply(new HttpError(500, "InternalError", "internal error; see the server log"));
      }
    }
    const body = typeof reply.body === "string" ? Buffer.from(reply.body, "utf8") : reply.body;
    response.writeHead(reply.statusCode, { ...BASE_HEADERS, ...reply.headers, "content-length": String(body.length) });
    response.end(request.method === "HEAD" ? undefined : body);
  }

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });
  server.requestTimeout = SERVER_TIMEOUTS.requestTimeout;
  server.headersTimeout = SERVER_TIMEOUTS.headersTimeout;
  server.keepAliveTimeout = SERVER_TIMEOUTS.keepAliveTimeout;

  return {
    listen(port = 0, host = "127.0.0.1") {
      if (!LOOPBACK_HOSTS.has(host)) {
        return Promise.reject(
          new Error(`the dashboard serves unauthenticated data and listens on loopback only (127.0.0.1, ::1, localhost), not ${JSON.stringify(host)}`),
        );
      }
      return new Promise((resolveListen, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const bound = (server.address() as AddressInfo).port;
          allowedHosts = new Set(["127.0.0.1", "localhost", "[::1]"].map((name) => `${name}:${bound}`));
          resolveListen({ url: `http://${hostOf(host)}:${bound}/`, port: bound });
        });
      });
    },
    close() {
      return new Promise((resolveClose, reject) => {
        server.close((error) => (error ? reject(error) : resolveClose()));
        server.closeAllConnections();
      });
    },
  };
}
