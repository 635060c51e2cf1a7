/**
 * Request and response bodies as Bedrock logs them (`inputBodyJson`, `outputBodyJson`), per
 * operation and model family: the Converse shape for Converse and ConverseStream, the provider's
 * native shape for InvokeModel, and the list of stream chunks for InvokeModelWithResponseStream.
 *
 * A body is built in two steps so that its size can hit a target exactly: first with its text
 * slots holding only fixed prefixes (the caller measures that overhead), then `fill` puts filler
 * text in the slots and `finish` writes the token counts and latencies that depend on it.
 */
import type { ModelFamily } from "./models";
import type { Prng } from "./prng";

/** The four operations that write invocation logs. */
export type Operation = "Converse" | "ConverseStream" | "InvokeModel" | "InvokeModelWithResponseStream";

/** A string field of a body that receives filler text between fixed parts. */
export interface TextSlot {
  target: Record<string, unknown>;
  key: string;
  before: string;
  after: string;
  /** Relative share of the side's text budget. */
  weight: number;
}

/** Token counts and timings written into the bodies once the text is known. */
export interface BodyUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Of cacheWriteTokens, those written with a 1-hour TTL (bodies that split writes by TTL). */
  cacheWrite1hTokens?: number;
  latencyMs: number;
  firstByteMs: number;
}

/**
 * Billing dimensions a call carries in its bodies, as Bedrock logs them: the latency setting and
 * service tier of a Converse request and response, and cache writes split by TTL.
 */
export interface BodyDimensions {
  /** `performanceConfig: { latency: "optimized" }` (Converse bodies; InvokeModel sends it as a header). */
  latencyOptimized: boolean;
  /** `serviceTier: { type }` of a Converse request and response; undefined: the default tier, unsaid. */
  serviceTier: "flex" | "priority" | undefined;
  /** The cache checkpoint asks for a 1-hour TTL, so its writes are 1-hour writes. */
  hourCache: boolean;
}

/** What a body builder returns. */
export interface BuiltBodies {
  input: Record<string, unknown>;
  output: unknown;
  /** Text slots of the request: their filler counts as input tokens. */
  promptSlots: TextSlot[];
  /** Text slots of the response: their filler counts as output tokens. */
  answerSlots: TextSlot[];
  /** Writes usage numbers into the bodies. */
  finish(usage: BodyUsage): void;
  /** JSON characters that `finish` adds beyond the measured shape (an embedding vector). */
  extraChars: number;
}

/** What one call asks for. */
export interface BodyRequest {
  operation: Operation;
  family: ModelFamily;
  /** Model name as reported inside responses. */
  responseModel: string;
  system: string;
  promptPrefix: string;
  answerPrefix: string;
  maxTokens: number;
  temperature: number;
  /** Whether earlier turns of the conversation are resent. */
  multiTurn: boolean;
  /** Whether the request marks a cache point (it carries cache tokens). */
  cached: boolean;
  /** Stream chunks carrying text, for streaming operations. */
  chunks: number;
  /** Epoch seconds of the call, for `created` fields. */
  epochSeconds: number;
  /** Billing dimensions to write into the bodies; absent: bodies as before these were generated (no TTL split either). */
  dimensions?: BodyDimensions;
}

function slot(target: Record<string, unknown>, key: string, before: string, after = "", weight = 1): TextSlot {
  target[key] = before + after;
  return { target, key, before, after, weight };
}

/** Puts `text` into a slot. */
export function fillSlot(textSlot: TextSlot, text: string): void {
  textSlot.target[textSlot.key] = textSlot.before + text + textSlot.after;
}

const PLACEHOLDER = 1000;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(rng: Prng, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += BASE62[rng.int(62)];
  return out;
}

type Built = Omit<BuiltBodies, "extraChars"> & { extraChars?: number };

/** Builds the bodies of one call. */
export function buildBodies(rng: Prng, request: BodyRequest): BuiltBodies {
  const built = buildFor(rng, request);
  built.extraChars ??= 0;
  return built as BuiltBodies;
}

const overheads = new Map<number, number>();

/**
 * JSON size of the bodies as built, before text is filled in (and before `finish`).
 *
 * @param shapeKey optional integer that identifies the request's size-relevant fields (operation,
 *   model for native bodies, application, maxTokens, temperature, turns, cache point, chunks):
 *   ids have fixed lengths and numbers are placeholders until `finish`, so equal keys measure the
 *   same, and the size is remembered instead of walked again.
 */
export function measureOverhead(bodies: BuiltBodies, shapeKey?: number): number {
  let size = shapeKey === undefined ? undefined : overheads.get(shapeKey);
  if (size === undefined) {
    size = jsonLength(bodies.input) + jsonLength(bodies.output);
    if (shapeKey !== undefined) {
      if (overheads.size >= 100_000) overheads.clear();
      overheads.set(shapeKey, size);
    }
  }
  return size + bodies.extraChars;
}

/**
 * Length of `JSON.stringify(value)` without building the string: several times faster, which
 * matters because every record is measured before its text is cut.
 */
export function jsonLength(value: unknown): number {
  if (value === null) return 4;
  switch (typeof value) {
    case "string":
      return quotedLength(value);
    case "number":
      return Number.isFinite(value) ? String(value).length : 4;
    case "boolean":
      return value ? 4 : 5;
    case "object": {
      if (Array.isArray(value)) {
        let length = 1 + Math.max(1, value.length);
        for (const element of value) length += element === undefined || typeof element === "function" ? 4 : jsonLength(element);
        return length;
      }
      let length = 2;
      let members = 0;
      for (const key in value) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
        length += quotedLength(key) + 1 + jsonLength(member);
        members++;
      }
      return length + Math.max(0, members - 1);
    }
    default:
      return 0;
  }
}

function quotedLength(text: string): number {
  let length = text.length + 2;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 || code === 0x5c || code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) length += 1;
    else if (code < 0x20) length += 5;
  }
  return length;
}

function buildFor(rng: Prng, request: BodyRequest): Built {
  if (request.family === "titan-embed") return titanEmbedding(rng);
  if (request.operation === "Converse" || request.operation === "ConverseStream") return converse(request);
  const stream = request.operation === "InvokeModelWithResponseStream";
  switch (request.family) {
    case "anthropic":
      return anthropic(rng, request, stream);
    case "nova":
      return nova(request, stream);
    case "llama":
      return llama(request, stream);
    case "mistral":
      return mistral(request, stream);
    case "openai":
      return openai(rng, request, stream);
  }
}

/** Message list of a chat-shaped request: optional earlier turn, then the user's message. */
function chatTurns(
  request: BodyRequest,
  message: (role: "user" | "assistant") => { entry: Record<string, unknown>; holder: Record<string, unknown>; key: string },
): { messages: Record<string, unknown>[]; slots: TextSlot[] } {
  const messages: Record<string, unknown>[] = [];
  const slots: TextSlot[] = [];
  if (request.multiTurn) {
    const first = message("user");
    const reply = message("assistant");
    messages.push(first.entry, reply.entry);
    slots.push(slot(first.holder, first.key, "", "", 1), slot(reply.holder, reply.key, "", "", 1));
  }
  const current = message("user");
  messages.push(current.entry);
  slots.push(slot(current.holder, current.key, request.promptPrefix, "", 3));
  return { messages, slots };
}

/** The `amazon-bedrock-invocationMetrics` Bedrock appends to the last chunk of a response stream. */
/** The invocation metrics of a streamed response's last chunk, sized with placeholders until `finish` fills them. */
function placeholderMetrics(): Record<string, number> {
  return metrics({
    inputTokens: PLACEHOLDER,
    outputTokens: PLACEHOLDER,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    latencyMs: PLACEHOLDER,
    firstByteMs: PLACEHOLDER,
  });
}

function metrics(usage: BodyUsage): Record<string, number> {
  return {
    inputTokenCount: usage.inputTokens,
    outputTokenCount: usage.outputTokens,
    invocationLatency: usage.latencyMs,
    firstByteLatency: usage.firstByteMs,
  };
}

function converse(request: BodyRequest): Built {
  const { messages, slots } = chatTurns(request, (role) => {
    const holder: Record<string, unknown> = {};
    return { entry: { role, content: [holder] }, holder, key: "text" };
  });
  const dimensions = request.dimensions;
  const system: Record<string, unknown>[] = [{ text: request.system }];
  if (request.cached) system.push({ cachePoint: dimensions?.hourCache ? { type: "default", ttl: "1h" } : { type: "default" } });
  const input: Record<string, unknown> = {
    messages,
    system,
    inferenceConfig: { maxTokens: request.maxTokens, temperature: request.temperature },
  };
  const answer: Record<string, unknown> = {};
  const answerSlot = slot(answer, "text", request.answerPrefix);
  const usage: Record<string, unknown> = { inputTokens: PLACEHOLDER, outputTokens: PLACEHOLDER, totalTokens: PLACEHOLDER };
  if (request.cached) {
    usage.cacheReadInputTokens = PLACEHOLDER;
    usage.cacheWriteInputTokens = PLACEHOLDER;
  }
  // Claude responses split cache writes by TTL (empty when nothing was written).
  const splitsWrites = dimensions !== undefined && request.cached && request.family === "anthropic";
  if (splitsWrites) usage.cacheDetails = [{ ttl: dimensions.hourCache ? "1h" : "5m", inputTokens: PLACEHOLDER }];
  const latency = { latencyMs: PLACEHOLDER };
  const output: Record<string, unknown> = {
    output: { message: { role: "assistant", content: [answer] } },
    stopReason: "end_turn",
    usage,
    metrics: latency,
  };
  if (dimensions?.latencyOptimized) {
    input.performanceConfig = { latency: "optimized" };
    output.performanceConfig = { latency: "optimized" };
  }
  if (dimensions?.serviceTier) {
    input.serviceTier = { type: dimensions.serviceTier };
    output.serviceTier = { type: dimensions.serviceTier };
  }
  return {
    input,
    output,
    promptSlots: slots,
    answerSlots: [answerSlot],
    finish(numbers) {
      usage.inputTokens = numbers.inputTokens;
      usage.outputTokens = numbers.outputTokens;
      usage.totalTokens = numbers.inputTokens + numbers.outputTokens + numbers.cacheReadTokens + numbers.cacheWriteTokens;
      if (request.cached) {
        usage.cacheReadInputTokens = numbers.cacheReadTokens;
        usage.cacheWriteInputTokens = numbers.cacheWriteTokens;
      }
      if (splitsWrites) usage.cacheDetails = cacheDetails(numbers);
      latency.latencyMs = numbers.latencyMs;
    },
  };
}

function anthropic(rng: Prng, request: BodyRequest, stream: boolean): Built {
  const { messages, slots } = chatTurns(request, (role) => {
    const holder: Record<string, unknown> = { type: "text" };
    return { entry: { role, content: [holder] }, holder, key: "text" };
  });
  const cacheControl = request.dimensions?.hourCache ? { type: "ephemeral", ttl: "1h" } : { type: "ephemeral" };
  const input = {
    anthropic_version: "bedrock-2023-05-31",
    max_tokens: request.maxTokens,
    system: request.cached ? [{ type: "text", text: request.system, cache_control: cacheControl }] : request.system,
    messages,
    temperature: request.temperature,
  };
  const id = `msg_bdrk_01${base62(rng, 22)}`;
  const usage: Record<string, unknown> = {
    input_tokens: PLACEHOLDER,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: PLACEHOLDER,
  };
  // The Messages API splits cache writes by TTL in usage.cache_creation.
  const splitsWrites = request.dimensions !== undefined;
  if (splitsWrites) usage.cache_creation = cacheCreation({ cacheWriteTokens: PLACEHOLDER, cacheWrite1hTokens: 0 });
  if (!stream) {
    const block: Record<string, unknown> = { type: "text" };
    const answerSlot = slot(block, "text", request.answerPrefix);
    const output = {
      id,
      type: "message",
      role: "assistant",
      model: request.responseModel,
      content: [block],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage,
    };
    return {
      input,
      output,
      promptSlots: slots,
      answerSlots: [answerSlot],
      finish(numbers) {
        usage.input_tokens = numbers.inputTokens;
        usage.cache_creation_input_tokens = numbers.cacheWriteTokens;
        usage.cache_read_input_tokens = numbers.cacheReadTokens;
        usage.output_tokens = numbers.outputTokens;
        if (splitsWrites) usage.cache_creation = cacheCreation(numbers);
      },
    };
  }
  const startUsage: Record<string, unknown> = { ...usage, output_tokens: 1 };
  const deltas: TextSlot[] = [];
  const chunks: unknown[] = [
    {
      type: "message_start",
      message: { id, type: "message", role: "assistant", model: request.responseModel, content: [], stop_reason: null, stop_sequence: null, usage: startUsage },
    },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  ];
  for (let i = 0; i < request.chunks; i++) {
    const delta: Record<string, unknown> = { type: "text_delta" };
    deltas.push(slot(delta, "text", i === 0 ? request.answerPrefix : ""));
    chunks.push({ type: "content_block_delta", index: 0, delta });
  }
  const finalUsage = { output_tokens: PLACEHOLDER };
  const invocationMetrics: Record<string, number> = {};
  chunks.push(
    { type: "content_block_stop", index: 0 },
    { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: finalUsage },
    { type: "message_stop", "amazon-bedrock-invocationMetrics": invocationMetrics },
  );
  const fillMetrics = (numbers: BodyUsage): void => {
    Object.assign(invocationMetrics, metrics(numbers), {
      cacheReadInputTokenCount: numbers.cacheReadTokens,
      cacheWriteInputTokenCount: numbers.cacheWriteTokens,
    });
  };
  fillMetrics({
    inputTokens: PLACEHOLDER,
    outputTokens: PLACEHOLDER,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    latencyMs: PLACEHOLDER,
    firstByteMs: PLACEHOLDER,
  });
  return {
    input,
    output: chunks,
    promptSlots: slots,
    answerSlots: deltas,
    finish(numbers) {
      startUsage.input_tokens = numbers.inputTokens;
      startUsage.cache_creation_input_tokens = numbers.cacheWriteTokens;
      startUsage.cache_read_input_tokens = numbers.cacheReadTokens;
      if (splitsWrites) startUsage.cache_creation = cacheCreation(numbers);
      finalUsage.output_tokens = numbers.outputTokens;
      fillMetrics(numbers);
    },
  };
}

function nova(request: BodyRequest, stream: boolean): Built {
  const { messages, slots } = chatTurns(request, (role) => {
    const holder: Record<string, unknown> = {};
    return { entry: { role, content: [holder] }, holder, key: "text" };
  });
  const system: Record<string, unknown>[] = [{ text: request.system }];
  if (request.cached) system.push({ cachePoint: { type: "default" } });
  const input = {
    schemaVersion: "messages-v1",
    system,
    messages,
    inferenceConfig: { maxTokens: request.maxTokens, temperature: request.temperature },
  };
  const usage: Record<string, number> = {
    inputTokens: PLACEHOLDER,
    outputTokens: PLACEHOLDER,
    totalTokens: PLACEHOLDER,
    cacheReadInputTokenCount: 0,
    cacheWriteInputTokenCount: 0,
  };
  const setUsage = (numbers: BodyUsage): void => {
    usage.inputTokens = numbers.inputTokens;
    usage.outputTokens = numbers.outputTokens;
    usage.totalTokens = numbers.inputTokens + numbers.outputTokens + numbers.cacheReadTokens + numbers.cacheWriteTokens;
    usage.cacheReadInputTokenCount = numbers.cacheReadTokens;
    usage.cacheWriteInputTokenCount = numbers.cacheWriteTokens;
  };
  if (!stream) {
    const block: Record<string, unknown> = {};
    const answerSlot = slot(block, "text", request.answerPrefix);
    const output = { output: { message: { content: [block], role: "assistant" } }, stopReason: "end_turn", usage };
    return { input, output, promptSlots: slots, answerSlots: [answerSlot], finish: setUsage };
  }
  const deltas: TextSlot[] = [];
  const chunks: unknown[] = [{ messageStart: { role: "assistant" } }];
  for (let i = 0; i < request.chunks; i++) {
    const delta: Record<string, unknown> = {};
    deltas.push(slot(delta, "text", i === 0 ? request.answerPrefix : ""));
    chunks.push({ contentBlockDelta: { delta, contentBlockIndex: 0 } });
  }
  const invocationMetrics = placeholderMetrics();
  chunks.push(
    { contentBlockStop: { contentBlockIndex: 0 } },
    { messageStop: { stopReason: "end_turn" } },
    { metadata: { usage, metrics: {}, trace: {} }, "amazon-bedrock-invocationMetrics": invocationMetrics },
  );
  return {
    input,
    output: chunks,
    promptSlots: slots,
    answerSlots: deltas,
    finish(numbers) {
      setUsage(numbers);
      Object.assign(invocationMetrics, metrics(numbers));
    },
  };
}

/** Converse `usage.cacheDetails`: cache writes by TTL, 1h first, empty when nothing was written. */
function cacheDetails(numbers: Pick<BodyUsage, "cacheWriteTokens" | "cacheWrite1hTokens">): Array<{ ttl: "1h" | "5m"; inputTokens: number }> {
  const hour = numbers.cacheWrite1hTokens ?? 0;
  const details: Array<{ ttl: "1h" | "5m"; inputTokens: number }> = [];
  if (hour > 0) details.push({ ttl: "1h", inputTokens: hour });
  if (numbers.cacheWriteTokens > hour) details.push({ ttl: "5m", inputTokens: numbers.cacheWriteTokens - hour });
  return details;
}

/** Anthropic `usage.cache_creation`: cache writes by TTL. */
function cacheCreation(numbers: Pick<BodyUsage, "cacheWriteTokens" | "cacheWrite1hTokens">): Record<string, number> {
  const hour = numbers.cacheWrite1hTokens ?? 0;
  return { ephemeral_5m_input_tokens: numbers.cacheWriteTokens - hour, ephemeral_1h_input_tokens: hour };
}

/** Llama and Mistral take one prompt string with the chat template inlined. */
function promptTemplate(target: Record<string, unknown>, key: string, before: string, after: string): TextSlot {
  return slot(target, key, before, after, 1);
}

function llama(request: BodyRequest, stream: boolean): Built {
  const input: Record<string, unknown> = {};
  const promptSlot = promptTemplate(
    input,
    "prompt",
    `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n${request.system}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${request.promptPrefix}`,
    "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
  );
  input.max_gen_len = request.maxTokens;
  input.temperature = request.temperature;
  input.top_p = 0.9;
  if (!stream) {
    const output: Record<string, unknown> = {};
    const answerSlot = slot(output, "generation", request.answerPrefix);
    output.prompt_token_count = PLACEHOLDER;
    output.generation_token_count = PLACEHOLDER;
    output.stop_reason = "stop";
    return {
      input,
      output,
      promptSlots: [promptSlot],
      answerSlots: [answerSlot],
      finish(numbers) {
        output.prompt_token_count = numbers.inputTokens;
        output.generation_token_count = numbers.outputTokens;
      },
    };
  }
  const deltas: TextSlot[] = [];
  const chunks: Record<string, unknown>[] = [];
  for (let i = 0; i < request.chunks; i++) {
    const chunk: Record<string, unknown> = {};
    deltas.push(slot(chunk, "generation", i === 0 ? request.answerPrefix : ""));
    chunk.prompt_token_count = i === 0 ? PLACEHOLDER : null;
    chunk.generation_token_count = PLACEHOLDER;
    chunk.stop_reason = null;
    chunks.push(chunk);
  }
  const invocationMetrics = placeholderMetrics();
  const last: Record<string, unknown> = {
    generation: "",
    prompt_token_count: null,
    generation_token_count: PLACEHOLDER,
    stop_reason: "stop",
    "amazon-bedrock-invocationMetrics": invocationMetrics,
  };
  chunks.push(last);
  return {
    input,
    output: chunks,
    promptSlots: [promptSlot],
    answerSlots: deltas,
    finish(numbers) {
      const per = Math.max(1, Math.floor(numbers.outputTokens / request.chunks));
      chunks.forEach((chunk, index) => {
        if (index === 0) chunk.prompt_token_count = numbers.inputTokens;
        chunk.generation_token_count = Math.min(numbers.outputTokens, per * (index + 1));
      });
      last.generation_token_count = numbers.outputTokens;
      Object.assign(invocationMetrics, metrics(numbers));
    },
  };
}

function mistral(request: BodyRequest, stream: boolean): Built {
  const input: Record<string, unknown> = {};
  const promptSlot = promptTemplate(input, "prompt", `<s>[INST] ${request.system}\n\n${request.promptPrefix}`, " [/INST]");
  input.max_tokens = request.maxTokens;
  input.temperature = request.temperature;
  if (!stream) {
    const entry: Record<string, unknown> = {};
    const answerSlot = slot(entry, "text", request.answerPrefix);
    entry.stop_reason = "stop";
    return { input, output: { outputs: [entry] }, promptSlots: [promptSlot], answerSlots: [answerSlot], finish() {} };
  }
  const deltas: TextSlot[] = [];
  const chunks: unknown[] = [];
  for (let i = 0; i < request.chunks; i++) {
    const entry: Record<string, unknown> = {};
    deltas.push(slot(entry, "text", i === 0 ? request.answerPrefix : ""));
    entry.stop_reason = null;
    chunks.push({ outputs: [entry] });
  }
  const invocationMetrics = placeholderMetrics();
  chunks.push({ outputs: [{ text: "", stop_reason: "stop" }], "amazon-bedrock-invocationMetrics": invocationMetrics });
  return {
    input,
    output: chunks,
    promptSlots: [promptSlot],
    answerSlots: deltas,
    finish(numbers) {
      Object.assign(invocationMetrics, metrics(numbers));
    },
  };
}

function openai(rng: Prng, request: BodyRequest, stream: boolean): Built {
  const { messages, slots } = chatTurns(request, (role) => {
    const entry: Record<string, unknown> = { role };
    return { entry, holder: entry, key: "content" };
  });
  const input = {
    messages: [{ role: "system", content: request.system }, ...messages],
    max_completion_tokens: request.maxTokens,
    temperature: request.temperature,
  };
  const id = `chatcmpl-${rng.hex(32)}`;
  if (!stream) {
    const message: Record<string, unknown> = { role: "assistant" };
    const answerSlot = slot(message, "content", request.answerPrefix);
    const usage = { prompt_tokens: PLACEHOLDER, completion_tokens: PLACEHOLDER, total_tokens: PLACEHOLDER };
    const output = {
      id,
      object: "chat.completion",
      created: request.epochSeconds,
      model: request.responseModel,
      choices: [{ index: 0, message, finish_reason: "stop" }],
      usage,
    };
    return {
      input,
      output,
      promptSlots: slots,
      answerSlots: [answerSlot],
      finish(numbers) {
        usage.prompt_tokens = numbers.inputTokens;
        usage.completion_tokens = numbers.outputTokens;
        usage.total_tokens = numbers.inputTokens + numbers.outputTokens;
      },
    };
  }
  const deltas: TextSlot[] = [];
  const chunks: unknown[] = [];
  for (let i = 0; i < request.chunks; i++) {
    const delta: Record<string, unknown> = i === 0 ? { role: "assistant" } : {};
    deltas.push(slot(delta, "content", i === 0 ? request.answerPrefix : ""));
    chunks.push({
      id,
      object: "chat.completion.chunk",
      created: request.epochSeconds,
      model: request.responseModel,
      choices: [{ index: 0, delta, finish_reason: null }],
    });
  }
  const invocationMetrics = placeholderMetrics();
  chunks.push({
    id,
    object: "chat.completion.chunk",
    created: request.epochSeconds,
    model: request.responseModel,
    choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
    "amazon-bedrock-invocationMetrics": invocationMetrics,
  });
  return {
    input,
    output: chunks,
    promptSlots: slots,
    answerSlots: deltas,
    finish(numbers) {
      Object.assign(invocationMetrics, metrics(numbers));
    },
  };
}

/** Dimensions requested from Titan Text Embeddings V2 (it accepts 256, 512 or 1024). */
const EMBEDDING_DIMENSIONS = 256;

function titanEmbedding(rng: Prng): Built {
  const input: Record<string, unknown> = {};
  const promptSlot = slot(input, "inputText", "");
  input.dimensions = EMBEDDING_DIMENSIONS;
  input.normalize = true;
  const lengths = embeddingValueLengths();
  const embedding = new Array<number>(EMBEDDING_DIMENSIONS);
  let chars = EMBEDDING_DIMENSIONS - 1;
  for (let i = 0; i < EMBEDDING_DIMENSIONS; i++) {
    // Sum of three uniforms: a cheap bell shape, like the components of a normalized embedding.
    const step = Math.round((rng.next() + rng.next() + rng.next() - 1.5) * EMBEDDING_SCALE);
    embedding[i] = step / 100_000;
    chars += lengths[step + EMBEDDING_STEPS] as number;
  }
  const output: { embedding: number[]; inputTextTokenCount: number } = { embedding: [], inputTextTokenCount: PLACEHOLDER };
  return {
    input,
    output,
    promptSlots: [promptSlot],
    answerSlots: [],
    extraChars: chars,
    finish(numbers) {
      output.embedding = embedding;
      output.inputTextTokenCount = numbers.inputTokens;
    },
  };
}

const EMBEDDING_SCALE = 7500;
/** Largest |step| a component can take: 1.5 x the scale. */
const EMBEDDING_STEPS = 11_250;
let valueLengths: Uint8Array | undefined;

/** JSON length of each possible component (step / 100,000), so a vector is sized without printing it. */
function embeddingValueLengths(): Uint8Array {
  if (!valueLengths) {
    valueLengths = new Uint8Array(2 * EMBEDDING_STEPS + 1);
    for (let step = -EMBEDDING_STEPS; step <= EMBEDDING_STEPS; step++) valueLengths[step + EMBEDDING_STEPS] = JSON.stringify(step / 100_000).length;
  }
  return valueLengths;
}
