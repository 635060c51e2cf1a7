/**
 * Application inference profiles resolved on the Bedrock control plane: `bedrock:GetInferenceProfile`
 * gives the profile's models (foundation-model ARNs, one per Region it routes to), from which the
 * base model and the price tier are taken, and `bedrock:ListTagsForResource` its tags. The same
 * adapter runs against AWS and against the local stand-in (`BedrockControlPlaneServer`).
 */
import { type ApplicationProfileSource, type ApplicationProfileTarget, BedrockSpendError, type PricingProfile } from "@bedrock-spend/core";
import { type Credentials, type SignedResponse, signedFetch } from "./signed-fetch";

/** The IAM actions the adapter calls, as named in errors. */
export type ProfileResolutionAction = "bedrock:GetInferenceProfile" | "bedrock:ListTagsForResource";

/**
 * An application profile that could not be resolved for a reason other than its absence: refused,
 * throttled, unreachable, or answered with models the adapter cannot price. The message is one line
 * (it becomes an unpriced record's reason) naming the action and what the caller lacks.
 */
export class ProfileResolutionError extends BedrockSpendError {
  readonly action: ProfileResolutionAction;
  readonly arn: string;
  /** The AWS error name (`AccessDeniedException`...), a network error code, or the adapter's own. */
  readonly errorName: string;
  /** Whether a later attempt may succeed (throttling, server and network errors). */
  readonly retryable: boolean;

  constructor(action: ProfileResolutionAction, arn: string, errorName: string, retryable: boolean, explanation: string, options?: ErrorOptions) {
    super(oneLine(`${action} on ${arn} ${explanation}`), options);
    this.name = "ProfileResolutionError";
    this.action = action;
    this.arn = arn;
    this.errorName = errorName;
    this.retryable = retryable;
  }
}

/** Options of a `BedrockProfileSource`. */
export interface BedrockProfileSourceOptions {
  /** Default: `AWS_REGION` (a Lambda function's own). */
  region?: string;
  /** Default: `AWS_ENDPOINT_URL_BEDROCK`, else `https://bedrock.<region>.amazonaws.com`; e.g. the local stand-in's `http://127.0.0.1:PORT`. */
  endpoint?: string;
  /** Default: the SDK's credential chain (environment, profile, SSO, the function's role). */
  credentials?: Credentials | (() => Promise<Credentials>);
  /** Attempts per call: throttling, server and network errors are retried with backoff (default 3). */
  maxAttempts?: number;
  fetch?: typeof fetch;
}

const FOUNDATION_MODEL_ARN = /^arn:aws(?:-[a-z]+)*:bedrock:([a-z0-9-]*)::foundation-model\/(.+)$/;
const JP_REGIONS: ReadonlySet<string> = new Set(["ap-northeast-1", "ap-northeast-3"]);
const AU_REGIONS: ReadonlySet<string> = new Set(["ap-southeast-2", "ap-southeast-4"]);

/** The Region and model id of a foundation-model ARN (`arn:aws:bedrock:REGION::foundation-model/MODEL_ID`). */
export function parseFoundationModelArn(arn: string): { region: string; model: string } | undefined {
  const match = FOUNDATION_MODEL_ARN.exec(arn);
  return match ? { region: match[1] ?? "", model: match[2] ?? "" } : undefined;
}

/**
 * The geography a Region belongs to for cross-Region inference: `us-gov` (us-gov-*), `us` (other
 * us-*), `eu` (eu-*), `ap` (ap-* and me-*, which APAC profiles include), or the Region's own
 * prefix (ca, sa, af, il, mx...) for the Regions no geographic profile is known to span.
 */
function geographyOf(region: string): string {
  if (region.startsWith("us-gov-")) return "us-gov";
  if (region.startsWith("us-")) return "us";
  if (region.startsWith("eu-")) return "eu";
  if (region.startsWith("ap-") || region.startsWith("me-")) return "ap";
  return region.split("-")[0] ?? region;
}

/**
 * The price tier of an application profile, inferred from the Regions of its models: AWS does not
 * return the system-defined profile it was copied from, so the tier is read off where it routes.
 *
 * - one Region → `none`: a copy of a foundation model, priced in-Region;
 * - a model ARN without a Region (`arn:aws:bedrock:::foundation-model/...`, how global profiles
 *   name "any commercial Region") → `global`;
 * - several Regions of one geography → its prefix: `us` (us-*), `us-gov` (us-gov-*), `eu` (eu-*),
 *   and among ap-* and me-* Regions: `jp` when all are ap-northeast-1/ap-northeast-3, `au` when all are
 *   ap-southeast-2/ap-southeast-4, `apac` otherwise;
 * - Regions of several geographies → `global`;
 * - several Regions of a geography without a known profile (e.g. two ca-* Regions) → undefined:
 *   the tier cannot be inferred.
 *
 * Pure; `modelArns` that are not foundation-model ARNs are ignored.
 */
export function pricingProfileOfModels(modelArns: readonly string[]): PricingProfile | undefined {
  const regions = new Set<string>();
  for (const arn of modelArns) {
    const parsed = parseFoundationModelArn(arn);
    if (parsed) regions.add(parsed.region);
  }
  if (regions.has("")) return "global";
  if (regions.size <= 1) return "none";
  const geographies = new Set([...regions].map(geographyOf));
  if (geographies.size > 1) return "global";
  const [geography] = geographies;
  switch (geography) {
    case "us":
    case "us-gov":
    case "eu":
      return geography;
    case "ap":
      if ([...regions].every((region) => JP_REGIONS.has(region))) return "jp";
      if ([...regions].every((region) => AU_REGIONS.has(region))) return "au";
      return "apac";
    default:
      return undefined;
  }
}

/**
 * `bedrock:GetInferenceProfile` and `bedrock:ListTagsForResource` behind `ApplicationProfileSource`,
 * as two signed REST-JSON requests (the control plane's protocol) rather than through the SDK's
 * Bedrock client, whose schemas of every Bedrock operation would add ~100 KB to each function
 * that prices (the bundle benchmark holds them under 500 KiB).
 */
export class BedrockProfileSource implements ApplicationProfileSource {
  private readonly send: ReturnType<typeof signedFetch>;
  private readonly endpoint: () => string;
  private readonly maxAttempts: number;

  constructor(options: BedrockProfileSourceOptions = {}) {
    const region = () => {
      const value = options.region ?? process.env.AWS_REGION;
      if (!value) throw new ProfileResolutionError("bedrock:GetInferenceProfile", "(any profile)", "NoRegion", false, "has no Region: set AWS_REGION");
      return value;
    };
    this.send = signedFetch({
      service: "bedrock",
      region: async () => region(),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.endpoint = () => (options.endpoint ?? process.env.AWS_ENDPOINT_URL_BEDROCK ?? defaultEndpoint(region())).replace(/\/+$/, "");
    this.maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isSafeInteger(this.maxAttempts) || this.maxAttempts < 1)
      throw new RangeError(`maxAttempts must be a positive integer, got ${options.maxAttempts}`);
  }

  /**
   * The profile's base model, price tier and tags; undefined when either call answers
   * ResourceNotFoundException (a deleted or unknown profile). Throws `ProfileResolutionError` otherwise.
   */
  async fetch(arn: string): Promise<ApplicationProfileTarget | undefined> {
    const [profile, tags] = await Promise.allSettled([
      this.call("bedrock:GetInferenceProfile", arn, "GET", `/inference-profiles/${encodeURIComponent(arn)}`),
      this.call("bedrock:ListTagsForResource", arn, "POST", "/listTagsForResource", JSON.stringify({ resourceARN: arn })),
    ]);
    if (isNotFound(profile) || isNotFound(tags)) return undefined;
    if (profile.status === "rejected") throw profile.reason;
    if (tags.status === "rejected") throw tags.reason;

    const models = (profile.value as { models?: { modelArn?: unknown }[] }).models ?? [];
    const modelArns = models.flatMap((model) => (typeof model?.modelArn === "string" ? [model.modelArn] : []));
    const target: ApplicationProfileTarget = { model: baseModelOf(arn, modelArns), pricingProfile: pricingProfileOf(arn, modelArns) };
    const tagList = (tags.value as { tags?: { key?: unknown; value?: unknown }[] }).tags ?? [];
    // Object.fromEntries defines own properties, so a `__proto__` tag key stays a plain key.
    if (tagList.length > 0) target.tags = Object.fromEntries(tagList.map((tag) => [String(tag?.key ?? ""), String(tag?.value ?? "")]));
    return target;
  }

  /** Nothing to release: each request is one fetch. Kept for callers that release their sources. */
  destroy(): void {}

  /** One signed call, retried on throttling, server and network errors; its JSON body, or a `ProfileResolutionError`. */
  private async call(action: ProfileResolutionAction, arn: string, method: string, path: string, body?: string): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      let failure: ProfileResolutionError;
      try {
        const response = await this.send(`${this.endpoint()}${path}`, {
          method,
          ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
        });
        if (response.status >= 200 && response.status < 300) return parseBody(action, arn, response);
        failure = httpError(action, arn, response, attempt);
      } catch (error) {
        failure = error instanceof ProfileResolutionError ? error : networkError(action, arn, error, attempt);
      }
      if (!failure.retryable || attempt >= this.maxAttempts) throw failure;
      // Exponential backoff with full jitter, as the SDK's standard retry mode: at most 100 ms x 2^(attempt-1).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** (attempt - 1)));
    }
  }
}

function defaultEndpoint(region: string): string {
  return `https://bedrock.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`;
}

function parseBody(action: ProfileResolutionAction, arn: string, response: SignedResponse): unknown {
  try {
    return JSON.parse(response.text) as unknown;
  } catch (error) {
    throw new ProfileResolutionError(action, arn, "InvalidResponse", true, `answered HTTP ${response.status} with a body that is not JSON`, { cause: error });
  }
}

/** The AWS error name of a REST-JSON error: `x-amzn-ErrorType` (before any `:`), else the body's `__type` or `code`. */
function errorNameOf(response: SignedResponse): { name: string; message: string } {
  let parsed: { __type?: unknown; code?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(response.text) as typeof parsed;
  } catch {
    // Not JSON: the status and the header say enough.
  }
  const raw = response.header("x-amzn-errortype") ?? (typeof parsed.__type === "string" ? parsed.__type : typeof parsed.code === "string" ? parsed.code : "");
  const name = raw.split(":")[0]?.split("#").at(-1) ?? "";
  const message = typeof parsed.message === "string" ? parsed.message : typeof parsed.Message === "string" ? parsed.Message : "";
  return { name: name || `HTTP${response.status}`, message };
}

function baseModelOf(arn: string, modelArns: readonly string[]): string {
  const models = new Set<string>();
  for (const modelArn of modelArns) {
    const parsed = parseFoundationModelArn(modelArn);
    if (!parsed) throw unpriceable(arn, `lists ${modelArn}, not a foundation-model ARN`);
    models.add(parsed.model);
  }
  const [model] = models;
  if (model === undefined) throw unpriceable(arn, "lists no model");
  if (models.size > 1) throw unpriceable(arn, `lists several models (${[...models].join(", ")})`);
  return model;
}

function pricingProfileOf(arn: string, modelArns: readonly string[]): PricingProfile {
  const tier = pricingProfileOfModels(modelArns);
  if (tier === undefined) {
    const regions = modelArns.map((modelArn) => parseFoundationModelArn(modelArn)?.region).join(", ");
    throw unpriceable(arn, `routes to Regions of no known cross-Region geography (${regions}); map the profile in the profile map file`);
  }
  return tier;
}

function unpriceable(arn: string, detail: string): ProfileResolutionError {
  return new ProfileResolutionError("bedrock:GetInferenceProfile", arn, "UnsupportedProfile", false, `answered a profile that cannot be priced: it ${detail}`);
}

function isNotFound(result: PromiseSettledResult<unknown>): boolean {
  return result.status === "rejected" && result.reason instanceof ProfileResolutionError && result.reason.errorName === "ResourceNotFoundException";
}

/** Maps an error answer to a `ProfileResolutionError` saying what the caller lacks. */
function httpError(action: ProfileResolutionAction, arn: string, response: SignedResponse, attempt: number): ProfileResolutionError {
  const { name, message } = errorNameOf(response);
  const status = response.status;
  const detail = message ? `: ${message}` : "";
  const attempts = attempt > 1 ? ` after ${attempt} attempts` : "";
  if (name === "ResourceNotFoundException") return new ProfileResolutionError(action, arn, name, false, `was not found (${name})`);
  if (name === "AccessDeniedException" || status === 403) {
    return new ProfileResolutionError(action, arn, name, false, `was refused (${name}): allow ${action} on application-inference-profile ARNs`);
  }
  if (name === "ThrottlingException" || name === "TooManyRequestsException" || status === 429) {
    return new ProfileResolutionError(action, arn, name, true, `was throttled (${name})${attempts}: retry later, or fetch fewer profiles at once`);
  }
  if (name === "ValidationException") return new ProfileResolutionError(action, arn, name, false, `was rejected as invalid (${name})${detail}`);
  return new ProfileResolutionError(action, arn, name, status >= 500, `failed (${name}, HTTP ${status})${attempts}${detail}`);
}

/** Maps a failure to send (no credentials, no network) to a `ProfileResolutionError`. */
function networkError(action: ProfileResolutionAction, arn: string, reason: unknown, attempt: number): ProfileResolutionError {
  const error = (typeof reason === "object" && reason !== null ? reason : { message: String(reason) }) as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { code?: string };
  };
  const options = { cause: reason };
  if (error.name === "CredentialsProviderError") {
    return new ProfileResolutionError(
      action,
      arn,
      error.name,
      false,
      `could not be signed (${error.name}): the process has no AWS credentials: ${error.message ?? ""}`,
      options,
    );
  }
  const code = error.cause?.code ?? error.code ?? error.name ?? "Error";
  const attempts = attempt > 1 ? ` after ${attempt} attempts` : "";
  return new ProfileResolutionError(
    action,
    arn,
    code,
    true,
    `could not reach Bedrock (${code}: ${error.message ?? ""})${attempts}: check the network path to the Bedrock endpoint`,
    options,
  );
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
