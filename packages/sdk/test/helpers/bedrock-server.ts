/**
 * A stand-in for the Bedrock runtime endpoint on 127.0.0.1 that records the real signed requests
 * the AWS SDK sends and answers each operation with a response the SDK can parse (JSON, or an
 * `application/vnd.amazon.eventstream` body for the streaming operations).
 *
 * It speaks cleartext HTTP/2 (`node:http2`): BedrockRuntimeClient's default request handler is
 * NodeHttp2Handler, and the tests keep the client exactly as applications get it.
 */
import { createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { EventStreamCodec } from "@smithy/core/event-streams";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";

/** One request as the server received it. */
export interface CapturedRequest {
  operation: "Converse" | "ConverseStream" | "InvokeModel" | "InvokeModelWithResponseStream" | "ApplyGuardrail" | "CountTokens" | "unknown";
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A running capture server. */
export interface BedrockServer {
  endpoint: string;
  requests: CapturedRequest[];
  /** A client of the server as an application would build it (static fake credentials, us-east-1). */
  client(): BedrockRuntimeClient;
  close(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
export const TEST_CREDENTIALS = CREDENTIALS;

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString("utf8"),
  (text) => new Uint8Array(Buffer.from(text, "utf8")),
);

function event(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ":message-type": { type: "string", value: "event" },
      ":event-type": { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
    },
    body: new Uint8Array(Buffer.from(JSON.stringify(payload), "utf8")),
  });
}

function operationOf(path: string): CapturedRequest["operation"] {
  if (/^\/model\/[^/]+\/converse$/.test(path)) return "Converse";
  if (/^\/model\/[^/]+\/converse-stream$/.test(path)) return "ConverseStream";
  if (/^\/model\/[^/]+\/invoke$/.test(path)) return "InvokeModel";
  if (/^\/model\/[^/]+\/invoke-with-response-stream$/.test(path)) return "InvokeModelWithResponseStream";
  if (/^\/guardrail\/[^/]+\/version\/[^/]+\/apply$/.test(path)) return "ApplyGuardrail";
  if (/^\/model\/[^/]+\/count-tokens$/.test(path)) return "CountTokens";
  return "unknown";
}

function respond(stream: ServerHttp2Stream, operation: CapturedRequest["operation"], request: CapturedRequest): void {
  const json = (status: number, body: unknown) => {
    stream.respond({ ":status": status, "content-type": "application/json", "x-amzn-requestid": "req-1" });
    stream.end(JSON.stringify(body));
  };
  switch (operation) {
    case "Converse":
      json(200, {
        output: { message: { role: "assistant", content: [{ text: `hello ${request.path}` }] } },
        stopReason: "end_turn",
        usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 },
        metrics: { latencyMs: 5 },
      });
      return;
    case "InvokeModel":
      stream.respond({ ":status": 200, "content-type": "application/json", "x-amzn-requestid": "req-1" });
      stream.end(JSON.stringify({ completion: "ok" }));
      return;
    case "ConverseStream":
      stream.respond({ ":status": 200, "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": "req-1" });
      stream.write(event("messageStart", { role: "assistant" }));
      stream.write(event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "hel" } }));
      stream.write(event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "lo" } }));
      stream.write(event("contentBlockStop", { contentBlockIndex: 0 }));
      stream.write(event("messageStop", { stopReason: "end_turn" }));
      stream.end(event("metadata", { usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 }, metrics: { latencyMs: 5 } }));
      return;
    case "InvokeModelWithResponseStream":
      stream.respond({ ":status": 200, "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": "req-1" });
      stream.write(event("chunk", { bytes: Buffer.from(JSON.stringify({ completion: "hel" })).toString("base64") }));
      stream.end(event("chunk", { bytes: Buffer.from(JSON.stringify({ completion: "lo" })).toString("base64") }));
      return;
    case "ApplyGuardrail":
      json(200, {
        usage: { topicPolicyUnits: 0, contentPolicyUnits: 1, wordPolicyUnits: 0, sensitiveInformationPolicyUnits: 0 },
        action: "NONE",
        outputs: [],
        assessments: [],
      });
      return;
    case "CountTokens":
      json(200, { inputTokens: 7 });
      return;
    default:
      json(404, { message: `no such operation: ${request.path}` });
  }
}

/** Starts the server on 127.0.0.1 (a free port). `delayMs` delays each answer (random delays interleave concurrent calls). */
export async function startBedrockServer(options: { delayMs?: () => number } = {}): Promise<BedrockServer> {
  const requests: CapturedRequest[] = [];
  const server = createServer();
  server.on("stream", (stream, rawHeaders: IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(rawHeaders)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : String(value);
      const path = String(rawHeaders[":path"] ?? "").split("?")[0] ?? "";
      const operation = operationOf(path);
      const request: CapturedRequest = { operation, method: String(rawHeaders[":method"]), path, headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(request);
      const delay = options.delayMs?.() ?? 0;
      setTimeout(() => {
        if (!stream.destroyed) respond(stream, operation, request);
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: BedrockRuntimeClient[] = [];
  return {
    endpoint,
    requests,
    client() {
      const client = new BedrockRuntimeClient({ region: "us-east-1", endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The SignedHeaders list of a captured request's SigV4 Authorization header. */
export function signedHeadersOf(request: CapturedRequest): string[] {
  const match = /SignedHeaders=([^,]+)/.exec(request.headers.authorization ?? "");
  return match?.[1]?.split(";") ?? [];
}

/** A capture server shared by a test file: started once, emptied before each test, closed at the end. */
export interface BedrockServerFixture {
  /** The running server (valid inside tests). */
  readonly server: BedrockServer;
  /** The one request of the current test; fails the test unless exactly one arrived. */
  only(): CapturedRequest;
}

/** Registers the vitest hooks of a capture server for the calling test file. */
export function useBedrockServer(): BedrockServerFixture {
  let server: BedrockServer | undefined;
  beforeAll(async () => {
    server = await startBedrockServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    if (server) server.requests.length = 0;
  });
  return {
    get server() {
      if (!server) throw new Error("the capture server is only available inside tests");
      return server;
    },
    only() {
      expect(this.server.requests).toHaveLength(1);
      return this.server.requests[0] as CapturedRequest;
    },
  };
}
