/**
 * Application inference profiles resolved on the Bedrock control plane: `bedrock:GetInferenceProfile`
 * gives the profile's models (foundation-model ARNs, one per Region it routes to), from which the
 * base model and the price tier are taken, and `bedrock:ListTagsForResource` its tags. The same
 * adapter runs against AWS and against the local stand-in (`BedrockControlPlaneServer`).
 */
import { BedrockClient, CreateInferenceProfileCommand, GetInferenceProfileCommand, ListTagsForResourceCommand } from "@aws-sdk/client-bedrock";
import { type ApplicationProfileSource, type ApplicationProfileTarget, BedrockSpendError, type PricingProfile } from "@bedrock-spend/core";

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

/** Options of a `BedrockProfileSource`: a client, or what to build one from. */
export type BedrockProfileSourceOptions =
  | { client: BedrockClient }
  | {
      /** Default: the SDK's (`AWS_REGION` in a Lambda function). */
      region?: string;
      /** E.g. the local stand-in's `http://127.0.0.1:PORT`. */
      endpoint?: string;
      credentials?: BedrockClientCredentials;
      /** Attempts per call, the SDK's standard retries included (default 3). */
      maxAttempts?: number;
    };

type BedrockClientCredentials = NonNullable<ConstructorParameters<typeof BedrockClient>[0]>["credentials"];

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

/** `bedrock:GetInferenceProfile` and `bedrock:ListTagsForResource` behind `ApplicationProfileSource`. */
export class BedrockProfileSource implements ApplicationProfileSource {
  private readonly client: BedrockClient;

  constructor(options: BedrockProfileSourceOptions) {
    this.client =
      "client" in options
        ? options.client
        : new BedrockClient({
            maxAttempts: options.maxAttempts ?? 3,
            ...(options.region === undefined ? {} : { region: options.region }),
            ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
            ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
          });
  }

  /**
   * The profile's base model, price tier and tags; undefined when either call answers
   * ResourceNotFoundException (a deleted or unknown profile). Throws `ProfileResolutionError` otherwise.
   */
  async fetch(arn: string): Promise<ApplicationProfileTarget | undefined> {
    const [profile, tags] = await Promise.allSettled([
      this.client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn })),
      this.client.send(new ListTagsForResourceCommand({ resourceARN: arn })),
    ]);
    if (isNotFound(profile) || isNotFound(tags)) return undefined;
    if (profile.status === "rejected") throw resolutionError("bedrock:GetInferenceProfile", arn, profile.reason);
    if (tags.status === "rejected") throw resolutionError("bedrock:ListTagsForResource", arn, tags.reason);

    const modelArns = (profile.value.models ?? []).flatMap((model) => (model.modelArn === undefined ? [] : [model.modelArn]));
    const target: ApplicationProfileTarget = { model: baseModelOf(arn, modelArns), pricingProfile: pricingProfileOf(arn, modelArns) };
    const tagList = tags.value.tags ?? [];
    // Object.fromEntries defines own properties, so a `__proto__` tag key stays a plain key.
    if (tagList.length > 0) target.tags = Object.fromEntries(tagList.map((tag) => [tag.key ?? "", tag.value ?? ""]));
    return target;
  }

  /** Releases the client's sockets (also when the client was passed in). */
  destroy(): void {
    this.client.destroy();
  }
}

/** Options of `createApplicationProfile`. */
export interface CreateApplicationProfileInput {
  name: string;
  /** A foundation-model ARN (in-Region copy) or a system-defined inference-profile ARN (`us.`, `global.`...). */
  copyFrom: string;
  tags?: Readonly<Record<string, string>>;
  description?: string;
}

/** Creates an application inference profile (`bedrock:CreateInferenceProfile`) and returns its ARN. */
export async function createApplicationProfile(client: BedrockClient, input: CreateApplicationProfileInput): Promise<string> {
  const output = await client.send(
    new CreateInferenceProfileCommand({
      inferenceProfileName: input.name,
      modelSource: { copyFrom: input.copyFrom },
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.tags === undefined ? {} : { tags: Object.entries(input.tags).map(([key, value]) => ({ key, value })) }),
    }),
  );
  if (!output.inferenceProfileArn) throw new BedrockSpendError(`bedrock:CreateInferenceProfile for ${input.name} answered without an inferenceProfileArn`);
  return output.inferenceProfileArn;
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
  return result.status === "rejected" && (result.reason as { name?: unknown } | null)?.name === "ResourceNotFoundException";
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** Maps an SDK or network error to a `ProfileResolutionError` saying what the caller lacks. */
function resolutionError(action: ProfileResolutionAction, arn: string, reason: unknown): ProfileResolutionError {
  const error = (typeof reason === "object" && reason !== null ? reason : { message: String(reason) }) as SdkErrorShape;
  const status = error.$metadata?.httpStatusCode;
  const name = error.name && error.name !== "Error" ? error.name : (error.code ?? "Error");
  const detail = error.message ? `: ${error.message}` : "";
  const attempts = error.$metadata?.attempts && error.$metadata.attempts > 1 ? ` after ${error.$metadata.attempts} attempts` : "";
  const options = { cause: reason };
  if (name === "AccessDeniedException") {
    return new ProfileResolutionError(action, arn, name, false, `was refused (${name}): allow ${action} on application-inference-profile ARNs`, options);
  }
  if (name === "ThrottlingException" || name === "TooManyRequestsException" || status === 429) {
    return new ProfileResolutionError(action, arn, name, true, `was throttled (${name})${attempts}: retry later, or fetch fewer profiles at once`, options);
  }
  if (name === "ValidationException") {
    return new ProfileResolutionError(action, arn, name, false, `was rejected as invalid (${name})${detail}`, options);
  }
  if (name === "CredentialsProviderError") {
    return new ProfileResolutionError(action, arn, name, false, `could not be signed (${name}): the process has no AWS credentials${detail}`, options);
  }
  if (status === undefined) {
    return new ProfileResolutionError(
      action,
      arn,
      name,
      true,
      `could not reach Bedrock (${name}${detail})${attempts}: check the network path to the Bedrock endpoint`,
      options,
    );
  }
  const retryable = error.$fault === "server" || status >= 500;
  return new ProfileResolutionError(action, arn, name, retryable, `failed (${name}, HTTP ${status})${attempts}${detail}`, options);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
