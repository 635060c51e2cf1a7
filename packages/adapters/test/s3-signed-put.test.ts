/**
 * The transform's S3 PutObject, one signed request over Node's fetch, against a local HTTP server
 * standing in for S3 (there is no local S3 here): what reaches the server is what was signed (the
 * server re-signs the request it received with the same credentials and date, so a header that
 * fetch dropped or changed breaks the match), the payload hash is the body's, keys are escaped
 * per segment, S3's error document becomes a typed error, throttling and server errors are retried.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RawFailureObjectStore } from "../src/raw-failure-format";
import { S3PutError, SignedS3Put } from "../src/s3-signed-put";
import { Sha256 } from "../src/signed-fetch";

const CREDENTIALS = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "session-token" };

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** The Authorization header the server computes for what it received. */
  expectedAuthorization: string;
}

let server: Server;
let endpoint: string;
let received: Received[];
/** Answers of the next requests (status, body); 200 once they run out. */
let answers: { status: number; body: string }[];

async function resign(request: IncomingMessage, body: Buffer): Promise<string> {
  const signer = new SignatureV4({
    service: "s3",
    region: "eu-west-1",
    credentials: CREDENTIALS,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
  const signed = (request.headers.authorization ?? "").match(/SignedHeaders=([^,]+)/)?.[1]?.split(";") ?? [];
  const headers: Record<string, string> = {};
  for (const name of signed) headers[name] = String(request.headers[name]);
  const url = new URL(request.url ?? "/", endpoint);
  const date = String(request.headers["x-amz-date"]);
  const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
  const again = await signer.sign(
    { method: request.method ?? "", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers, body },
    { signingDate },
  );
  return String(again.headers.authorization);
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks);
      received.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body,
        expectedAuthorization: await resign(request, body),
      });
      const answer = answers.shift() ?? { status: 200, body: "" };
      response.writeHead(answer.status, { "content-type": "application/xml" }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  answers = [];
});

const putter = (maxAttempts = 3) => new SignedS3Put({ region: "eu-west-1", credentials: CREDENTIALS, endpoint, maxAttempts, sleep: async () => {} });

describe("SignedS3Put", () => {
  it("sends one PUT whose headers and body are exactly what was signed, with the body's SHA-256 and the session token", async () => {
    // Prepare
    const body = `${JSON.stringify({ recordId: "1", data: "H4sI", reason: "oversize", note: "prompts can hold any text: ünïcødé, 雪, 🙂" })}\n`;

    // Act
    await putter().put("raw-failures-bucket", "2026/11/27/2b4d1ad9-2f48.jsonl", body, "application/x-ndjson");

    // Assess
    expect(received).toHaveLength(1);
    const [request] = received as [Received];
    expect(request.method).toBe("PUT");
    expect(request.url).toBe("/raw-failures-bucket/2026/11/27/2b4d1ad9-2f48.jsonl");
    expect(request.body.toString("utf8")).toBe(body);
    expect(request.headers["x-amz-content-sha256"]).toBe(createHash("sha256").update(Buffer.from(body, "utf8")).digest("hex"));
    expect(request.headers["x-amz-security-token"]).toBe("session-token");
    expect(request.headers["content-type"]).toBe("application/x-ndjson");
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-content-sha256/,
    );
    expect(request.headers.authorization).toBe(request.expectedAuthorization);
  });

  it("escapes each key segment once, and signs the path as sent", async () => {
    // Act
    await putter().put("b", "2026/11/27/a key+with=odd&chars.jsonl", "x", "text/plain");

    // Assess
    expect(received[0]?.url).toBe("/b/2026/11/27/a%20key%2Bwith%3Dodd%26chars.jsonl");
    expect(received[0]?.headers.authorization).toBe(received[0]?.expectedAuthorization);
  });

  it("retries throttling and server errors, then succeeds", async () => {
    // Prepare
    answers = [
      { status: 503, body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>" },
      { status: 500, body: "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>" },
    ];

    // Act
    await putter().put("b", "k.jsonl", "x", "text/plain");

    // Assess
    expect(received).toHaveLength(3);
  });

  it("fails at once, with S3's code and message, on a refusal (a key policy that denies the role)", async () => {
    // Prepare
    answers = [
      {
        status: 403,
        body: '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>User is not authorized to perform: kms:GenerateDataKey</Message></Error>',
      },
    ];

    // Act
    const failure = await putter()
      .put("b", "k.jsonl", "x", "text/plain")
      .catch((error: unknown) => error);

    // Assess
    expect(received).toHaveLength(1);
    expect(failure).toBeInstanceOf(S3PutError);
    expect(failure).toMatchObject({ name: "S3PutError", status: 403, code: "AccessDenied", bucket: "b", key: "k.jsonl" });
    expect((failure as Error).message).toBe("s3://b/k.jsonl: PutObject failed (403 AccessDenied): User is not authorized to perform: kms:GenerateDataKey");
  });

  it("gives up after its attempts on a server that keeps failing, and on no server at all", async () => {
    // Prepare
    answers = [1, 2].map(() => ({ status: 503, body: "<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>" }));

    // Act
    const slowDown = await putter(2)
      .put("b", "k.jsonl", "x", "text/plain")
      .catch((error: unknown) => error);
    const nobody = await new SignedS3Put({
      region: "eu-west-1",
      credentials: CREDENTIALS,
      endpoint: "http://127.0.0.1:1",
      maxAttempts: 2,
      sleep: async () => {},
    })
      .put("b", "k.jsonl", "x", "text/plain")
      .catch((error: unknown) => error);

    // Assess
    expect(slowDown).toMatchObject({ status: 503, code: "SlowDown" });
    expect(nobody).toMatchObject({ name: "S3PutError", status: 0 });
  });

  it("is the raw failure store's writer: one dated object per batch, one JSON line per failure", async () => {
    // Prepare
    const store = new RawFailureObjectStore({ writer: putter(), bucket: "raw", prefix: "" });
    const failure = { recordId: "7", data: "H4sIAAAA", reason: "invalid" as const, fields: ["gzip"], failedAt: "2026-11-27T10:00:05.000Z" };

    // Act
    await store.keep("2b4d1ad9-2f48-94bd-a088-767c317e994a", [failure, { ...failure, recordId: "8" }]);

    // Assess
    expect(received[0]?.url).toBe("/raw/2026/11/27/2b4d1ad9-2f48-94bd-a088-767c317e994a.jsonl");
    expect(
      received[0]?.body
        .toString("utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).recordId),
    ).toEqual(["7", "8"]);
  });

  it("needs a Region, from its options or AWS_REGION", async () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      await expect(new SignedS3Put({ credentials: CREDENTIALS }).put("b", "k", "x", "text/plain")).rejects.toThrow(
        /AWS_REGION: is required to sign S3 requests/,
      );
      expect(received).toEqual([]);
    } finally {
      Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, value]) => value !== undefined)));
    }
  });
});
