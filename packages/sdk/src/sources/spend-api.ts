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

/** A `SpendSource` reading the spend API. The SigV4 signer is loaded only when `signing` is set. */
export function spendApiSource(options: SpendApiSourceOptions): SpendSource {
  if (typeof options !== "object" || options === null) throw new InvalidOptionsError("spendApiSource", "must be an object with a baseUrl");
  let base: URL;
  try {
    base = new URL(String(options.baseUrl));
  } catch (error) {
    throw new InvalidOptionsError("spendApiSource.baseUrl", `must be an absolute http(s) URL, got ${JSON.stringify(String(options.baseUrl))}`, {
      cause: error,
    });
  }
  if (base.protocol !== "https:" && base.protocol !== "http:")
    throw new InvalidOptionsError("spendApiSource.baseUrl", `must be http or https, got ${base.protocol}`);
  if (base.search !== "" || base.hash !== "") throw new InvalidOptionsError("spendApiSource.baseUrl", "must not have a query or a fragment");
  const timeoutMs = options.timeoutMs ?? 2_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new InvalidOptionsError("spendApiSource.timeoutMs", `must be a positive integer, got ${JSON.stringify(timeoutMs)}`);
  const signing = options.signing;
  if (signing !== undefined && (typeof signing.region !== "string" || signing.region.length === 0 || signing.credentials === undefined)) {
    throw new InvalidOptionsError("spendApiSource.signing", "needs a region and credentials");
  }
  if (options.headers !== undefined && typeof options.headers !== "function") throw new InvalidOptionsError("spendApiSource.headers", "must be a function");
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") throw new InvalidOptionsError("spendApiSource.fetch", "no fetch implementation (Node.js 18+ has one)");
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

  return {
    async monthStatus(tenantId, month, lookup = {}) {
      // Encoded exactly once: the API decodes the segment once (a `#` or `/` in a tenant id stays in the id).
      const path = `${prefix}/v1/tenants/${encodeURIComponent(tenantId)}/spend`;
      const url = new URL(base.href);
      url.pathname = path;
      url.search = `?month=${encodeURIComponent(month)}`;
      let headers: Record<string, string> = { accept: "application/json", ...(await options.headers?.()) };
      if (signing) {
        const signed = await (await getSigner()).sign({
          method: "GET",
          protocol: base.protocol,
          hostname: base.hostname,
          ...(base.port ? { port: Number(base.port) } : {}),
          path,
          query: { month },
          headers: { ...headers, host: base.host },
        });
        // fetch sets Host itself, to the same value.
        const { host: _host, ...rest } = signed.headers;
        headers = rest;
      }
      const signals = [AbortSignal.timeout(timeoutMs), ...(lookup.signal ? [lookup.signal] : [])];
      const response = await fetchImpl(url, { method: "GET", headers, signal: AbortSignal.any(signals), redirect: "error" });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`GET ${path} answered ${response.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
      }
      if (response.status === 404 && isUnknownTenant(body)) return { spendUsd: formatUsd(0n), budget: null };
      if (response.status !== 200) {
        const error = problemOf(body);
        throw new Error(
          `GET ${path} answered ${response.status}${error.code ? ` ${error.code}` : ""}${error.message ? `: ${error.message}` : ""}${error.requestId ? ` (request id ${error.requestId})` : ""}`,
        );
      }
      return statusOf(body, path);
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
