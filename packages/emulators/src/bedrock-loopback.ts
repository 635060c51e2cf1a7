/**
 * A stand-in for the Amazon Bedrock control plane on 127.0.0.1, limited to application inference
 * profiles: CreateInferenceProfile, GetInferenceProfile, ListInferenceProfiles,
 * DeleteInferenceProfile, ListTagsForResource, TagResource and UntagResource, answered in the
 * REST-JSON protocol `@aws-sdk/client-bedrock` speaks (paths, status codes, `x-amzn-ErrorType`
 * errors with a `{"message"}` body), so that local mode and the tests drive the same adapter as AWS.
 *
 * A profile copied from a foundation-model ARN lists that one model; one copied from a
 * system-defined profile (`us.`, `eu.`, `global.`...) lists the foundation-model ARNs of the
 * Regions of its geography, as GetInferenceProfile does on AWS. System-defined profiles themselves
 * are not served. Requests must carry a SigV4 `Authorization` header; signatures are not verified.
 * Profiles live in memory and, given a `stateFile`, in that file (rewritten atomically after each
 * change), so that a later process sees them. Faults can be queued per operation (`failNext`).
 */
import { randomInt, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { BedrockSpendError } from "@bedrock-spend/core";

/** The control-plane operations the stand-in answers. */
export const BEDROCK_CONTROL_PLANE_OPERATIONS = [
  "CreateInferenceProfile",
  "GetInferenceProfile",
  "ListInferenceProfiles",
  "DeleteInferenceProfile",
  "ListTagsForResource",
  "TagResource",
  "UntagResource",
] as const;
/** One of the operations the stand-in answers. */
export type BedrockControlPlaneOperation = (typeof BEDROCK_CONTROL_PLANE_OPERATIONS)[number];

/**
 * The faults `failNext` can inject: an error answered as AWS answers it, or `ConnectionReset`, which
 * drops the connection without an answer (a network failure for the client).
 */
export type BedrockControlPlaneFault =
  | "ThrottlingException"
  | "AccessDeniedException"
  | "InternalServerException"
  | "ServiceUnavailableException"
  | "ValidationException"
  | "ResourceNotFoundException"
  | "ConnectionReset";

/** One key/value tag, in the wire shape. */
export interface BedrockTag {
  key: string;
  value: string;
}

/** An application inference profile held by the stand-in (also the state file's entries). */
export interface StoredInferenceProfile {
  /** 12 lowercase alphanumerics. */
  id: string;
  arn: string;
  name: string;
  description?: string;
  /** The ARN it was copied from (a foundation model or a system-defined profile). */
  copyFrom: string;
  /** Foundation-model ARNs the profile routes to. */
  models: string[];
  tags: BedrockTag[];
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
  /** Creation order, for listing. */
  sequence: number;
  clientRequestToken?: string;
}

/** A profile to create with `seed`, without going through HTTP. */
export interface BedrockProfileSeed {
  name: string;
  copyFrom: string;
  tags?: Readonly<Record<string, string>>;
  description?: string;
  /** A fixed id instead of a random one. */
  id?: string;
}

/** One request the stand-in got. */
export interface BedrockControlPlaneRequest {
  method: string;
  /** The raw path, still percent-encoded. */
  path: string;
  /** The operation it was routed to, or `Unknown`. */
  operation: BedrockControlPlaneOperation | "Unknown";
  /** The status answered; 0 for a dropped connection. */
  status: number;
}

/** Options of a `BedrockControlPlaneServer`. */
export interface BedrockControlPlaneOptions {
  /** Region of the ARNs it issues (default `us-east-1`). */
  region?: string;
  /** Account of the ARNs it issues (default `123456789012`). */
  accountId?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** JSON file the profiles are loaded from at `start` (when it exists) and saved to after each change. */
  stateFile?: string;
  /** Clock of `createdAt`/`updatedAt` (default: the system clock). */
  now?: () => Date;
}

/** A state file that cannot be read back. */
export class BedrockControlPlaneStateError extends BedrockSpendError {
  readonly stateFile: string;

  constructor(stateFile: string, message: string, options?: ErrorOptions) {
    super(`${stateFile}: ${message}`, options);
    this.name = "BedrockControlPlaneStateError";
    this.stateFile = stateFile;
  }
}

/**
 * Destination Regions of each system-defined profile geography, as the stand-in lists them. AWS
 * varies them by model; these are the common sets (`global` stands for "any commercial Region").
 */
export const GEOGRAPHY_REGIONS: Readonly<Record<string, readonly string[]>> = {
  us: ["us-east-1", "us-east-2", "us-west-2"],
  eu: ["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"],
  apac: ["ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ap-south-1"],
  jp: ["ap-northeast-1", "ap-northeast-3"],
  au: ["ap-southeast-2", "ap-southeast-4"],
  "us-gov": ["us-gov-west-1", "us-gov-east-1"],
  global: ["us-east-1", "us-east-2", "us-west-2", "eu-central-1", "eu-west-1", "ap-northeast-1", "ap-southeast-2", "sa-east-1"],
};

const FAULT_STATUS: Record<Exclude<BedrockControlPlaneFault, "ConnectionReset">, number> = {
  ThrottlingException: 429,
  AccessDeniedException: 403,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  ValidationException: 400,
  ResourceNotFoundException: 404,
};

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const PROFILE_NAME = /^([0-9a-zA-Z][ _-]?)+$/;
const TAG_TEXT = /^[a-zA-Z0-9\s._:/=+@-]*$/;
const MAX_TAGS = 200;
const FOUNDATION_MODEL_ARN = /^arn:(aws(?:-[a-z]+)*):bedrock:([a-z0-9-]+)::foundation-model\/([a-zA-Z0-9-:.]+)$/;
const SYSTEM_PROFILE_ARN = /^arn:(aws(?:-[a-z]+)*):bedrock:([a-z0-9-]+):(\d{12}):inference-profile\/([a-z-]+)\.([a-zA-Z0-9-:.]+)$/;
const STATE_VERSION = 1;

/** An error answered to the client, as AWS's REST-JSON services answer them. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notFound = (identifier: string) =>
  new ApiError(404, "ResourceNotFoundException", `The resource ${identifier} was not found. Check the ARN or ID and try again.`);
const invalid = (message: string) => new ApiError(400, "ValidationException", message);
const constraint = (value: unknown, field: string, rule: string) =>
  invalid(`1 validation error detected: Value ${value === undefined ? "null" : `'${String(value)}'`} at '${field}' failed to satisfy constraint: ${rule}`);

interface Route {
  operation: BedrockControlPlaneOperation;
  /** The decoded `{inferenceProfileIdentifier}` label, for the routes that have one. */
  identifier?: string;
}

function route(method: string, pathname: string): Route | undefined {
  if (pathname === "/inference-profiles") {
    if (method === "POST") return { operation: "CreateInferenceProfile" };
    if (method === "GET") return { operation: "ListInferenceProfiles" };
    return undefined;
  }
  const label = /^\/inference-profiles\/([^/]+)$/.exec(pathname)?.[1];
  if (label !== undefined) {
    let identifier: string;
    try {
      identifier = decodeURIComponent(label);
    } catch {
      identifier = label;
    }
    if (method === "GET") return { operation: "GetInferenceProfile", identifier };
    if (method === "DELETE") return { operation: "DeleteInferenceProfile", identifier };
    return undefined;
  }
  if (method !== "POST") return undefined;
  if (pathname === "/listTagsForResource") return { operation: "ListTagsForResource" };
  if (pathname === "/tagResource") return { operation: "TagResource" };
  if (pathname === "/untagResource") return { operation: "UntagResource" };
  return undefined;
}

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ApiError(400, "SerializationException", "Could not parse the request body as JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ApiError(400, "SerializationException", "The request body must be a JSON object");
  return value as Record<string, unknown>;
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== "string" || value.length === 0) throw constraint(value, field, "Member must not be null");
  return value;
}

function validateTags(value: unknown, field: string): BedrockTag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw constraint(value, field, "Member must be a list of {key, value}");
  if (value.length > MAX_TAGS) throw constraint(`${value.length} tags`, field, `Member must have length less than or equal to ${MAX_TAGS}`);
  return value.map((tag: unknown, index) => {
    const { key, value: tagValue } = (tag ?? {}) as { key?: unknown; value?: unknown };
    if (typeof key !== "string" || key.length < 1 || key.length > 128 || !TAG_TEXT.test(key)) {
      throw constraint(key, `${field}.${index + 1}.member.key`, "Member must have length between 1 and 128 and match ^[a-zA-Z0-9\\s._:/=+@-]*$");
    }
    if (typeof tagValue !== "string" || tagValue.length > 256 || !TAG_TEXT.test(tagValue)) {
      throw constraint(tagValue, `${field}.${index + 1}.member.value`, "Member must have length between 0 and 256 and match ^[a-zA-Z0-9\\s._:/=+@-]*$");
    }
    return { key, value: tagValue };
  });
}

/** Replaces tags of the same key and appends new ones, keeping the first-set order. */
function mergeTags(current: readonly BedrockTag[], added: readonly BedrockTag[]): BedrockTag[] {
  const merged = new Map(current.map((tag) => [tag.key, tag.value]));
  for (const tag of added) merged.set(tag.key, tag.value);
  return [...merged].map(([key, value]) => ({ key, value }));
}

function generateId(): string {
  let id = "";
  for (let i = 0; i < 12; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function encodeNextToken(sequence: number): string {
  return Buffer.from(JSON.stringify({ after: sequence }), "utf8").toString("base64");
}

function decodeNextToken(token: string): number {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    const after = (value as { after?: unknown } | null)?.after;
    if (typeof after === "number" && Number.isInteger(after)) return after;
  } catch {
    // answered below
  }
  throw invalid("The provided pagination token is not valid.");
}

function isStoredProfile(value: unknown): value is StoredInferenceProfile {
  if (typeof value !== "object" || value === null) return false;
  const profile = value as Partial<StoredInferenceProfile>;
  return (
    typeof profile.id === "string" &&
    typeof profile.arn === "string" &&
    typeof profile.name === "string" &&
    typeof profile.copyFrom === "string" &&
    typeof profile.createdAt === "string" &&
    typeof profile.updatedAt === "string" &&
    typeof profile.sequence === "number" &&
    Array.isArray(profile.models) &&
    profile.models.every((model) => typeof model === "string") &&
    Array.isArray(profile.tags) &&
    profile.tags.every((tag) => typeof tag?.key === "string" && typeof tag.value === "string")
  );
}

function copyProfile(profile: StoredInferenceProfile): StoredInferenceProfile {
  return { ...profile, models: [...profile.models], tags: profile.tags.map((tag) => ({ ...tag })) };
}

/**
 * The Bedrock control-plane stand-in. `await new BedrockControlPlaneServer(options).start()`, then
 * point a `BedrockClient` at `endpoint`; `stop()` closes it.
 */
export class BedrockControlPlaneServer {
  /** The requests received so far, oldest first. */
  readonly requests: BedrockControlPlaneRequest[] = [];
  readonly region: string;
  readonly accountId: string;
  private readonly stateFile: string | undefined;
  private readonly now: () => Date;
  private readonly requestedPort: number;
  private readonly byId = new Map<string, StoredInferenceProfile>();
  private readonly faults = new Map<BedrockControlPlaneOperation | "*", BedrockControlPlaneFault[]>();
  private nextSequence = 1;
  private server: Server | undefined;
  private listeningPort = 0;
  private writes = 0;

  constructor(options: BedrockControlPlaneOptions = {}) {
    this.region = options.region ?? "us-east-1";
    this.accountId = options.accountId ?? "123456789012";
    this.stateFile = options.stateFile;
    this.now = options.now ?? (() => new Date());
    this.requestedPort = options.port ?? 0;
  }

  /** Loads the state file (when there is one) and listens on 127.0.0.1. */
  async start(): Promise<this> {
    if (this.server) return this;
    this.loadState();
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => this.handle(request, response, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.requestedPort, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.listeningPort = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening, dropping open connections. The profiles stay (and stay in the state file). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  }

  /** `http://127.0.0.1:<port>`, for the `BedrockClient`'s `endpoint`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The port listened on (0 before `start`). */
  get port(): number {
    return this.listeningPort;
  }

  /** The listening socket's address (`127.0.0.1`), or undefined when stopped. */
  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  /**
   * Answers the next `count` requests of `operation` (`*`: of any operation) with `fault`, before any
   * other check. Faults of an operation are used before those queued for `*`.
   */
  failNext(operation: BedrockControlPlaneOperation | "*", fault: BedrockControlPlaneFault, count = 1): void {
    const queue = this.faults.get(operation) ?? [];
    for (let i = 0; i < count; i++) queue.push(fault);
    this.faults.set(operation, queue);
  }

  /** Requests received for `operation` (faulted ones included), or for all operations. */
  calls(operation?: BedrockControlPlaneOperation): number {
    return operation === undefined ? this.requests.length : this.requests.filter((request) => request.operation === operation).length;
  }

  /** Forgets the request log and the queued faults. */
  resetCalls(): void {
    this.requests.length = 0;
    this.faults.clear();
  }

  /** Creates profiles directly, validated as CreateInferenceProfile validates them. Returns them. */
  seed(profiles: readonly BedrockProfileSeed[]): StoredInferenceProfile[] {
    const created = profiles.map((seed) => {
      const tags = validateTags(
        Object.entries(seed.tags ?? {}).map(([key, value]) => ({ key, value })),
        "tags",
      );
      return this.createProfile({ name: seed.name, copyFrom: seed.copyFrom, tags, description: seed.description, id: seed.id });
    });
    return created.map(copyProfile);
  }

  /** Copies of the profiles held, in creation order. */
  profiles(): StoredInferenceProfile[] {
    return [...this.byId.values()].sort((a, b) => a.sequence - b.sequence).map(copyProfile);
  }

  /** The ARN of an application inference profile id in this stand-in's Region and account. */
  arnOf(id: string): string {
    return `arn:aws:bedrock:${this.region}:${this.accountId}:application-inference-profile/${id}`;
  }

  private handle(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    const matched = route(method, url.pathname);
    const record: BedrockControlPlaneRequest = { method, path: url.pathname, operation: matched?.operation ?? "Unknown", status: 0 };
    this.requests.push(record);
    response.on("finish", () => {
      record.status = response.statusCode;
    });
    try {
      if (matched) {
        const fault = this.takeFault(matched.operation);
        if (fault === "ConnectionReset") {
          request.socket.destroy();
          return;
        }
        if (fault) throw this.faultError(fault, matched, body);
      }
      if (!(request.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256")) {
        throw new ApiError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
      }
      if (!matched) throw new ApiError(404, "UnknownOperationException", `No operation matches ${method} ${url.pathname}`);
      const [status, payload] = this.dispatch(matched, url.searchParams, body);
      this.send(response, status, payload);
    } catch (error) {
      // A bug of the stand-in is answered as AWS answers its own: a 500 the client may retry.
      this.sendError(
        response,
        error instanceof ApiError ? error : new ApiError(500, "InternalServerException", `stand-in failure: ${(error as Error).message}`),
      );
    }
  }

  private dispatch(matched: Route, query: URLSearchParams, rawBody: Buffer): [number, unknown] {
    switch (matched.operation) {
      case "CreateInferenceProfile":
        return [201, this.createFromRequest(parseBody(rawBody))];
      case "GetInferenceProfile":
        return [200, this.describe(this.find(matched.identifier ?? ""))];
      case "ListInferenceProfiles":
        return [200, this.list(query)];
      case "DeleteInferenceProfile":
        this.remove(this.find(matched.identifier ?? ""));
        return [200, {}];
      case "ListTagsForResource": {
        const profile = this.findByArn(requiredString(parseBody(rawBody), "resourceARN"));
        return [200, { tags: profile.tags }];
      }
      case "TagResource": {
        const body = parseBody(rawBody);
        const profile = this.findByArn(requiredString(body, "resourceARN"));
        const added = validateTags(body.tags, "tags");
        if (added.length === 0) throw constraint(undefined, "tags", "Member must not be null");
        const tags = mergeTags(profile.tags, added);
        if (tags.length > MAX_TAGS)
          throw new ApiError(400, "TooManyTagsException", `The request would give the resource more than ${MAX_TAGS} tags`, { resourceName: profile.arn });
        profile.tags = tags;
        this.saveState();
        return [200, {}];
      }
      case "UntagResource": {
        const body = parseBody(rawBody);
        const profile = this.findByArn(requiredString(body, "resourceARN"));
        const keys = body.tagKeys;
        if (!Array.isArray(keys) || !keys.every((key) => typeof key === "string")) throw constraint(keys, "tagKeys", "Member must not be null");
        const removed = new Set<string>(keys);
        profile.tags = profile.tags.filter((tag) => !removed.has(tag.key));
        this.saveState();
        return [200, {}];
      }
    }
  }

  private createFromRequest(body: Record<string, unknown>): { inferenceProfileArn: string; status: "ACTIVE" } {
    const name = requiredString(body, "inferenceProfileName");
    const modelSource = body.modelSource as { copyFrom?: unknown } | undefined;
    const copyFrom = modelSource?.copyFrom;
    if (typeof copyFrom !== "string") throw constraint(copyFrom, "modelSource.copyFrom", "Member must not be null");
    const description = body.description;
    if (description !== undefined && typeof description !== "string") throw constraint(description, "description", "Member must be a string");
    const token = body.clientRequestToken;
    if (token !== undefined && typeof token !== "string") throw constraint(token, "clientRequestToken", "Member must be a string");
    // A retried request with the same token gets the profile it created the first time.
    const earlier = token === undefined ? undefined : [...this.byId.values()].find((profile) => profile.clientRequestToken === token);
    if (earlier) return { inferenceProfileArn: earlier.arn, status: "ACTIVE" };
    const profile = this.createProfile({ name, copyFrom, tags: validateTags(body.tags, "tags"), description, clientRequestToken: token });
    return { inferenceProfileArn: profile.arn, status: "ACTIVE" };
  }

  private createProfile(input: {
    name: string;
    copyFrom: string;
    tags: BedrockTag[];
    description?: string | undefined;
    id?: string | undefined;
    clientRequestToken?: string | undefined;
  }): StoredInferenceProfile {
    if (input.name.length > 64 || !PROFILE_NAME.test(input.name)) {
      throw constraint(input.name, "inferenceProfileName", "Member must have length less than or equal to 64 and match ^([0-9a-zA-Z][ _-]?)+$");
    }
    if (input.description !== undefined && (input.description.length < 1 || input.description.length > 200)) {
      throw constraint(input.description, "description", "Member must have length between 1 and 200");
    }
    if ([...this.byId.values()].some((profile) => profile.name === input.name)) {
      throw new ApiError(400, "ConflictException", `An inference profile with the name ${input.name} already exists.`);
    }
    const models = this.modelsOf(input.copyFrom);
    const id = input.id ?? this.unusedId();
    if (!/^[a-z0-9]{12}$/.test(id) || this.byId.has(id)) throw invalid(`The inference profile id ${id} is not 12 lowercase alphanumerics or is taken.`);
    const at = this.now().toISOString();
    const profile: StoredInferenceProfile = {
      id,
      arn: this.arnOf(id),
      name: input.name,
      copyFrom: input.copyFrom,
      models,
      tags: input.tags,
      createdAt: at,
      updatedAt: at,
      sequence: this.nextSequence++,
    };
    if (input.description !== undefined) profile.description = input.description;
    if (input.clientRequestToken !== undefined) profile.clientRequestToken = input.clientRequestToken;
    this.byId.set(id, profile);
    this.saveState();
    return profile;
  }

  /** The foundation-model ARNs a profile copied from `copyFrom` routes to. */
  private modelsOf(copyFrom: string): string[] {
    const foundation = FOUNDATION_MODEL_ARN.exec(copyFrom);
    if (foundation) {
      if (foundation[2] !== this.region) throw invalid(`The model ${copyFrom} is not in ${this.region}; copy a foundation model of the Region you call.`);
      return [copyFrom];
    }
    const system = SYSTEM_PROFILE_ARN.exec(copyFrom);
    if (system) {
      const [, partition, region, , geography = "", modelId] = system;
      const regions = GEOGRAPHY_REGIONS[geography];
      if (!regions) throw invalid(`The inference profile ${copyFrom} does not exist.`);
      if (region !== this.region) throw invalid(`The inference profile ${copyFrom} is not in ${this.region}.`);
      return regions.map((destination) => `arn:${partition}:bedrock:${destination}::foundation-model/${modelId}`);
    }
    throw constraint(copyFrom, "modelSource.copyFrom", "Member must be a foundation-model or system-defined inference-profile ARN");
  }

  private unusedId(): string {
    let id = generateId();
    while (this.byId.has(id)) id = generateId();
    return id;
  }

  /** A profile by id or ARN (GetInferenceProfile and DeleteInferenceProfile accept both). */
  private find(identifier: string): StoredInferenceProfile {
    if (identifier.length === 0 || identifier.length > 2048)
      throw constraint(identifier, "inferenceProfileIdentifier", "Member must have length between 1 and 2048");
    const profile = this.byId.get(identifier) ?? [...this.byId.values()].find((candidate) => candidate.arn === identifier);
    if (!profile) throw notFound(identifier);
    return profile;
  }

  private findByArn(arn: string): StoredInferenceProfile {
    const profile = [...this.byId.values()].find((candidate) => candidate.arn === arn);
    if (!profile) throw notFound(arn);
    return profile;
  }

  private describe(profile: StoredInferenceProfile): Record<string, unknown> {
    const description: Record<string, unknown> = {
      inferenceProfileName: profile.name,
      createdAt: profile.createdAt,
      updatedAt: profile.updatedAt,
      inferenceProfileArn: profile.arn,
      models: profile.models.map((modelArn) => ({ modelArn })),
      inferenceProfileId: profile.id,
      status: "ACTIVE",
      type: "APPLICATION",
    };
    if (profile.description !== undefined) description.description = profile.description;
    return description;
  }

  private list(query: URLSearchParams): Record<string, unknown> {
    const maxText = query.get("maxResults");
    const maxResults = maxText === null ? 1000 : Number(maxText);
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) {
      throw constraint(maxText, "maxResults", "Member must have value between 1 and 1000");
    }
    const type = query.get("type");
    if (type !== null && type !== "APPLICATION" && type !== "SYSTEM_DEFINED") {
      throw constraint(type, "typeEquals", "Member must satisfy enum value set: [SYSTEM_DEFINED, APPLICATION]");
    }
    const token = query.get("nextToken");
    const after = token === null ? 0 : decodeNextToken(token);
    // The stand-in holds no system-defined profiles.
    const candidates = type === "SYSTEM_DEFINED" ? [] : this.profiles().filter((profile) => profile.sequence > after);
    const page = candidates.slice(0, maxResults);
    const result: Record<string, unknown> = { inferenceProfileSummaries: page.map((profile) => this.describe(profile)) };
    const last = page.at(-1);
    if (candidates.length > page.length && last) result.nextToken = encodeNextToken(last.sequence);
    return result;
  }

  private remove(profile: StoredInferenceProfile): void {
    this.byId.delete(profile.id);
    this.saveState();
  }

  private takeFault(operation: BedrockControlPlaneOperation): BedrockControlPlaneFault | undefined {
    return this.faults.get(operation)?.shift() ?? this.faults.get("*")?.shift();
  }

  private faultError(fault: Exclude<BedrockControlPlaneFault, "ConnectionReset">, matched: Route, body: Buffer): ApiError {
    const status = FAULT_STATUS[fault];
    switch (fault) {
      case "AccessDeniedException": {
        const resource = this.resourceOf(matched, body);
        return new ApiError(
          status,
          fault,
          `User: arn:aws:sts::${this.accountId}:assumed-role/bedrock-spend/loopback is not authorized to perform: bedrock:${matched.operation} on resource: ${resource} because no identity-based policy allows the bedrock:${matched.operation} action`,
        );
      }
      case "ThrottlingException":
        return new ApiError(status, fault, "Too many requests, please wait before trying again.");
      case "ResourceNotFoundException":
        return notFound(this.resourceOf(matched, body));
      case "ValidationException":
        return invalid("1 validation error detected: injected by the stand-in");
      default:
        return new ApiError(status, fault, "The service encountered an internal error. Try your request again.");
    }
  }

  /** The ARN an operation acts on, for error messages. */
  private resourceOf(matched: Route, body: Buffer): string {
    if (matched.identifier !== undefined) return matched.identifier.startsWith("arn:") ? matched.identifier : this.arnOf(matched.identifier);
    try {
      const arn = parseBody(body).resourceARN;
      if (typeof arn === "string") return arn;
    } catch {
      // no parsable body: the operation's wildcard resource below
    }
    return this.arnOf("*");
  }

  private send(response: ServerResponse, status: number, payload: unknown): void {
    const body = Buffer.from(JSON.stringify(payload), "utf8");
    response.writeHead(status, { "content-type": "application/json", "content-length": body.length, "x-amzn-requestid": randomUUID() });
    response.end(body);
  }

  private sendError(response: ServerResponse, error: ApiError): void {
    const body = Buffer.from(JSON.stringify({ message: error.message, ...error.extra }), "utf8");
    response.writeHead(error.status, {
      "content-type": "application/json",
      "content-length": body.length,
      "x-amzn-errortype": error.type,
      "x-amzn-requestid": randomUUID(),
    });
    response.end(body);
  }

  private loadState(): void {
    const file = this.stateFile;
    if (!file || !existsSync(file)) return;
    let state: unknown;
    try {
      state = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new BedrockControlPlaneStateError(file, `not readable as JSON: ${(error as Error).message}`, { cause: error });
    }
    const { version, profiles, nextSequence } = (state ?? {}) as { version?: unknown; profiles?: unknown; nextSequence?: unknown };
    if (version !== STATE_VERSION || !Array.isArray(profiles) || typeof nextSequence !== "number") {
      throw new BedrockControlPlaneStateError(file, `not a Bedrock stand-in state file (version ${STATE_VERSION})`);
    }
    this.byId.clear();
    for (const [index, profile] of profiles.entries()) {
      if (!isStoredProfile(profile)) throw new BedrockControlPlaneStateError(file, `profiles[${index}] is not a stored inference profile`);
      this.byId.set(profile.id, copyProfile(profile));
    }
    this.nextSequence = nextSequence;
  }

  /** Writes a temporary file and renames it over the state file, so that a reader never sees half of it. */
  private saveState(): void {
    const file = this.stateFile;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${++this.writes}.tmp`;
    const state = { version: STATE_VERSION, region: this.region, accountId: this.accountId, nextSequence: this.nextSequence, profiles: this.profiles() };
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temporary, file);
  }
}
