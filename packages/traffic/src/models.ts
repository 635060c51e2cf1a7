/**
 * The model mix of the reference workload: 20 model ids that the shipped price catalog prices
 * (plain ids, `us.` and `global.` system profiles, and one application inference profile), with
 * relative call volumes (cheap models most frequent), and the ids used for unpriced traffic.
 */

/** Request/response body dialect of a model family on InvokeModel (Converse is the same for all). */
export type ModelFamily = "anthropic" | "nova" | "llama" | "mistral" | "openai" | "titan-embed";

/** Which prompt-cache token classes a model's records may carry. */
export type CacheSupport = "none" | "read" | "read-write";

/** One entry of the model mix. */
export interface ModelSpec {
  /** The `modelId` as logged: plain id, profile id or application-inference-profile ARN. */
  modelId: string;
  /** Base model id (the catalog key). */
  model: string;
  family: ModelFamily;
  /** Relative call volume. */
  weight: number;
  /**
   * `read` for Nova: the catalog has no cache-write price for Nova, so a Nova record with
   * cache-write tokens would be unpriced rather than priced.
   */
  cache: CacheSupport;
  /** Regions a cross-Region profile may route to (`inferenceRegion`); empty for in-Region ids. */
  inferenceRegions: readonly string[];
  /** Large or reasoning models that free-tier tenants do not get. */
  premium: boolean;
  /** Generation speed, for `metrics.latencyMs`. */
  msPerOutputToken: number;
  /** Model name as the provider reports it inside response bodies. */
  responseModel: string;
  /** Offers latency-optimized inference that the shipped catalog prices (`billingDimensions`). */
  latencyOptimized?: boolean;
  /** Offers the flex and priority service tiers at rates the shipped catalog prices (`billingDimensions`). */
  serviceTiers?: boolean;
}

/** AWS account of the generated records unless told otherwise. */
export const DEFAULT_ACCOUNT_ID = "123456789012";
/** Source Region of the generated records unless told otherwise. */
export const DEFAULT_REGION = "us-east-1";

const APPLICATION_PROFILE_ID = "h4x9k2m7q1zp";

/** The application inference profile of the mix, for an account and Region. */
export function applicationProfileArn(accountId = DEFAULT_ACCOUNT_ID, region = DEFAULT_REGION): string {
  return `arn:aws:bedrock:${region}:${accountId}:application-inference-profile/${APPLICATION_PROFILE_ID}`;
}

/** What the application inference profile stands for: a copy of the `us.` Claude Haiku 4.5 profile. */
export const APPLICATION_PROFILE_TARGET = {
  model: "anthropic.claude-haiku-4-5-20251001-v1:0",
  pricingProfile: "us",
} as const;

/**
 * The application-profile map (`--profiles` file format) for the profile in the mix, so that its
 * records resolve to a model and price instead of being unpriced.
 */
export function applicationProfileMap(accountId = DEFAULT_ACCOUNT_ID, region = DEFAULT_REGION): Record<string, { model: string; pricingProfile: string }> {
  return { [applicationProfileArn(accountId, region)]: { ...APPLICATION_PROFILE_TARGET } };
}

/** The application inference profile ARN for the default account and Region. */
export const APPLICATION_PROFILE_ARN = applicationProfileArn();

/** The application-profile map for the default account and Region. */
export const APPLICATION_PROFILES: Readonly<Record<string, { model: string; pricingProfile: string }>> = applicationProfileMap();

const US = ["us-east-1", "us-east-2", "us-west-2"] as const;
const GLOBAL = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "ap-southeast-2"] as const;

function spec(
  modelId: string,
  family: ModelFamily,
  weight: number,
  cache: CacheSupport,
  responseModel: string,
  msPerOutputToken: number,
  premium = false,
): Omit<ModelSpec, "model" | "inferenceRegions"> & { model?: string } {
  return { modelId, family, weight, cache, responseModel, msPerOutputToken, premium };
}

function complete(entry: ReturnType<typeof spec>, model?: string, regions?: readonly string[]): ModelSpec {
  const dot = entry.modelId.indexOf(".");
  const prefix = entry.modelId.slice(0, dot);
  const base = model ?? (prefix === "us" || prefix === "global" ? entry.modelId.slice(dot + 1) : entry.modelId);
  const inferenceRegions = regions ?? (prefix === "us" ? US : prefix === "global" ? GLOBAL : []);
  return { ...entry, model: base, inferenceRegions };
}

/**
 * Builds the mix for an account and Region (the application profile ARN names both).
 * Weights are relative; they sum to 100.
 */
export function modelMix(accountId = DEFAULT_ACCOUNT_ID, region = DEFAULT_REGION): readonly ModelSpec[] {
  return [
    complete(spec("amazon.nova-micro-v1:0", "nova", 14, "read", "amazon.nova-micro-v1:0", 4)),
    complete(spec("us.amazon.nova-lite-v1:0", "nova", 12, "read", "amazon.nova-lite-v1:0", 5)),
    complete(spec("global.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic", 11, "read-write", "claude-haiku-4-5-20251001", 8)),
    complete(spec("meta.llama3-1-8b-instruct-v1:0", "llama", 6, "none", "meta.llama3-1-8b-instruct-v1:0", 5)),
    complete(spec("openai.gpt-oss-20b-1:0", "openai", 6, "none", "openai.gpt-oss-20b-1:0", 4)),
    complete(spec("anthropic.claude-3-haiku-20240307-v1:0", "anthropic", 6, "none", "claude-3-haiku-20240307", 7)),
    { ...complete(spec("global.amazon.nova-2-lite-v1:0", "nova", 6, "read", "amazon.nova-2-lite-v1:0", 5)), serviceTiers: true },
    complete(spec("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic", 7, "read-write", "claude-sonnet-4-5-20250929", 14, true)),
    complete(spec("us.meta.llama3-3-70b-instruct-v1:0", "llama", 4, "none", "meta.llama3-3-70b-instruct-v1:0", 12)),
    complete(spec("openai.gpt-oss-120b-1:0", "openai", 4, "none", "openai.gpt-oss-120b-1:0", 7)),
    complete(spec("us.anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic", 4, "read-write", "claude-3-5-haiku-20241022", 9)),
    { ...complete(spec("us.amazon.nova-pro-v1:0", "nova", 4, "read", "amazon.nova-pro-v1:0", 10)), latencyOptimized: true },
    complete(spec("global.anthropic.claude-sonnet-4-6", "anthropic", 4, "read-write", "claude-sonnet-4-6", 14, true)),
    complete(spec("amazon.titan-embed-text-v2:0", "titan-embed", 4, "none", "amazon.titan-embed-text-v2:0", 0)),
    complete(spec("qwen.qwen3-32b-v1:0", "openai", 3, "none", "qwen.qwen3-32b-v1:0", 9)),
    complete(spec("us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic", 3, "read-write", "claude-sonnet-4-20250514", 15, true)),
    complete(
      spec(applicationProfileArn(accountId, region), "anthropic", 3, "read-write", "claude-haiku-4-5-20251001", 8),
      APPLICATION_PROFILE_TARGET.model,
      US,
    ),
    complete(spec("mistral.mistral-large-2407-v1:0", "mistral", 1, "none", "mistral.mistral-large-2407-v1:0", 16)),
    complete(spec("us.deepseek.r1-v1:0", "openai", 1, "none", "deepseek.r1-v1:0", 20, true)),
    complete(spec("global.anthropic.claude-opus-4-6-v1", "anthropic", 1, "read-write", "claude-opus-4-6", 30, true)),
  ];
}

/** The mix for the default account and Region. */
export const MODEL_MIX: readonly ModelSpec[] = modelMix();

/**
 * Model ids the shipped catalog does not price, for the unpriced fraction: models newer than the
 * catalog or never added to it. The generator also uses an application profile missing from the map.
 */
export const UNPRICED_MODEL_IDS: readonly string[] = ["us.twelvelabs.pegasus-1-2-v1:0", "ai21.jamba-1-5-mini-v1:0", "ai21.jamba-1-5-large-v1:0"];

/** An application inference profile that no profile map names (its records are unpriced). */
export function unmappedApplicationProfileArn(accountId = DEFAULT_ACCOUNT_ID, region = DEFAULT_REGION): string {
  return `arn:aws:bedrock:${region}:${accountId}:application-inference-profile/p7w3n8c5r2ty`;
}
