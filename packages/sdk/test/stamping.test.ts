import { Sha256 } from "@aws-crypto/sha256-js";
import {
  ApplyGuardrailCommand,
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { currentTenant, runWithTenant, tenantMetadata, withMetadata } from "../src/index";
import { type CapturedRequest, signedHeadersOf, startBedrockServer, TEST_CREDENTIALS, useBedrockServer } from "./helpers/bedrock-server";

const MODEL = "global.anthropic.claude-haiku-4-5-20251001-v1:0";
const HEADER = "x-amzn-bedrock-request-metadata";
const converseInput = { modelId: MODEL, messages: [{ role: "user" as const, content: [{ text: "hi" }] }] };
const invokeInput = { modelId: MODEL, contentType: "application/json", body: JSON.stringify({ prompt: "hi" }) };

const ACME = { tenantId: "acme", departmentId: "sales", userId: "u-42", applicationId: "support-bot" };

const capture = useBedrockServer();
const only = () => capture.only();

function bodyMetadata(request: CapturedRequest): unknown {
  return (JSON.parse(request.body) as { requestMetadata?: unknown }).requestMetadata;
}

function headerMetadata(request: CapturedRequest): unknown {
  const value = request.headers[HEADER];
  return value === undefined ? undefined : JSON.parse(value);
}

/**
 * Recomputes the request's SigV4 signature from what the server received (the signed headers,
 * the payload hash, the signing time): equal only if the header values that arrived are the ones
 * that were signed.
 */
async function verifySignature(request: CapturedRequest): Promise<boolean> {
  const signed = signedHeadersOf(request);
  const headers: Record<string, string> = {};
  for (const name of signed) headers[name] = request.headers[name] as string;
  const date = request.headers["x-amz-date"] as string;
  const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
  const { hostname, port } = new URL(capture.server.endpoint);
  const signer = new SignatureV4({ service: "bedrock", region: "us-east-1", credentials: TEST_CREDENTIALS, sha256: Sha256 });
  const again = await signer.sign(
    { method: request.method, protocol: "http:", hostname, port: Number(port), path: request.path, query: {}, headers, body: request.body },
    { signingDate },
  );
  return again.headers.authorization === request.headers.authorization;
}

describe("Function: tenantMetadata() on the four operations", () => {
  it("stamps Converse's requestMetadata body field with the tenant context", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());

    // Act
    const response = await runWithTenant(ACME, () => client.send(new ConverseCommand(converseInput)));

    // Assess
    expect(response.output?.message?.content?.[0]?.text).toContain("hello");
    const request = only();
    expect(request.operation).toBe("Converse");
    expect(bodyMetadata(request)).toEqual({ tenantId: "acme", departmentId: "sales", userId: "u-42", applicationId: "support-bot" });
    expect(request.headers[HEADER]).toBeUndefined();
  });

  it("stamps ConverseStream's body and still reads the event stream answer", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());

    // Act
    const text = await runWithTenant({ tenantId: "globex" }, async () => {
      const response = await client.send(new ConverseStreamCommand(converseInput));
      let collected = "";
      for await (const event of response.stream ?? []) collected += event.contentBlockDelta?.delta?.text ?? "";
      return collected;
    });

    // Assess
    expect(text).toBe("hello");
    const request = only();
    expect(request.operation).toBe("ConverseStream");
    expect(bodyMetadata(request)).toEqual({ tenantId: "globex" });
  });

  it("sends InvokeModel's metadata in the X-Amzn-Bedrock-Request-Metadata header, inside SigV4 SignedHeaders", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ metadata: { env: "prod" } }));

    // Act
    const response = await runWithTenant(ACME, () => client.send(new InvokeModelCommand(invokeInput)));

    // Assess
    expect(JSON.parse(Buffer.from(response.body).toString("utf8"))).toEqual({ completion: "ok" });
    const request = only();
    expect(request.operation).toBe("InvokeModel");
    expect(headerMetadata(request)).toEqual({ tenantId: "acme", departmentId: "sales", userId: "u-42", applicationId: "support-bot", env: "prod" });
    expect(signedHeadersOf(request)).toContain(HEADER);
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[^ ]*x-amzn-bedrock-request-metadata/,
    );
    expect(await verifySignature(request)).toBe(true);
    // The check has teeth: another metadata value under the same signature does not verify.
    expect(await verifySignature({ ...request, headers: { ...request.headers, [HEADER]: '{"tenantId":"globex"}' } })).toBe(false);
    // The body is the caller's, untouched.
    expect(JSON.parse(request.body)).toEqual({ prompt: "hi" });
  });

  it("sends InvokeModelWithResponseStream's metadata in the signed header and reads the chunks", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());

    // Act
    const chunks = await runWithTenant({ tenantId: "initech", userId: "peter" }, async () => {
      const response = await client.send(new InvokeModelWithResponseStreamCommand(invokeInput));
      const out: string[] = [];
      for await (const event of response.body ?? []) if (event.chunk?.bytes) out.push(JSON.parse(Buffer.from(event.chunk.bytes).toString("utf8")).completion);
      return out;
    });

    // Assess
    expect(chunks).toEqual(["hel", "lo"]);
    const request = only();
    expect(request.operation).toBe("InvokeModelWithResponseStream");
    expect(headerMetadata(request)).toEqual({ tenantId: "initech", userId: "peter" });
    expect(signedHeadersOf(request)).toContain(HEADER);
    expect(await verifySignature(request)).toBe(true);
  });

  it("leaves other operations untouched (ApplyGuardrail, CountTokens), even outside a tenant scope", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ missingTenant: "require" }));

    // Act
    await client.send(new ApplyGuardrailCommand({ guardrailIdentifier: "g1", guardrailVersion: "1", source: "INPUT", content: [{ text: { text: "hi" } }] }));
    await runWithTenant({ tenantId: "acme" }, () =>
      client.send(new CountTokensCommand({ modelId: MODEL, input: { converse: { messages: converseInput.messages } } })),
    );

    // Assess
    expect(capture.server.requests.map((request) => request.operation)).toEqual(["ApplyGuardrail", "CountTokens"]);
    for (const request of capture.server.requests) {
      expect(request.headers[HEADER]).toBeUndefined();
      expect(signedHeadersOf(request)).not.toContain(HEADER);
      expect(JSON.parse(request.body)).not.toHaveProperty("requestMetadata");
      expect(request.body).not.toContain("acme");
    }
  });

  it("works when the plugin is put on a client built first and used later", async () => {
    // Prepare
    const client = capture.server.client();
    await runWithTenant({ tenantId: "before" }, () => client.send(new ConverseCommand(converseInput)));
    client.middlewareStack.use(tenantMetadata());

    // Act
    await runWithTenant({ tenantId: "after" }, () => client.send(new ConverseCommand(converseInput)));

    // Assess
    expect(capture.server.requests.map(bodyMetadata)).toEqual([undefined, { tenantId: "after" }]);
  });

  it("replaces an earlier use of the plugin instead of stamping twice", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ metadata: { env: "staging" } }));
    client.middlewareStack.use(tenantMetadata({ metadata: { env: "prod" } }));

    // Act
    await runWithTenant({ tenantId: "acme" }, () => client.send(new InvokeModelCommand(invokeInput)));

    // Assess
    expect(headerMetadata(only())).toEqual({ tenantId: "acme", env: "prod" });
  });
});

describe("Function: tenantMetadata() precedence", () => {
  it("merges static < context metadata < context fields < withMetadata < the call's own", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ metadata: { env: "prod", feature: "static", team: "static" } }));
    const context = { tenantId: "acme", userId: "u-1", metadata: { team: "context", userId: "shadowed", region: "eu" } };

    // Act
    await runWithTenant(context, () =>
      withMetadata({ feature: "summarize", region: "us" }, () =>
        client.send(new ConverseCommand({ ...converseInput, requestMetadata: { region: "call", callOnly: "yes" } })),
      ),
    );

    // Assess
    expect(bodyMetadata(only())).toEqual({
      tenantId: "acme",
      userId: "u-1",
      callOnly: "yes",
      env: "prod",
      feature: "summarize",
      region: "call",
      team: "context",
    });
  });

  it("sends the tenant key first, then the named keys, then the rest sorted", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ metadata: { zeta: "1", alpha: "2" } }));

    // Act
    await runWithTenant({ ...ACME }, () => client.send(new ConverseCommand(converseInput)));

    // Assess
    expect(Object.keys(bodyMetadata(only()) as object)).toEqual(["tenantId", "departmentId", "userId", "applicationId", "alpha", "zeta"]);
  });

  it("merges InvokeModel's own requestMetadata JSON string into the header, the call's winning", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());

    // Act
    await runWithTenant({ tenantId: "acme", userId: "u-1" }, () =>
      withMetadata({ feature: "embed" }, () =>
        client.send(new InvokeModelCommand({ ...invokeInput, requestMetadata: JSON.stringify({ userId: "u-2", trace: "t-9" }) })),
      ),
    );

    // Assess
    const request = only();
    expect(headerMetadata(request)).toEqual({ tenantId: "acme", userId: "u-2", feature: "embed", trace: "t-9" });
    expect(Object.keys(request.headers).filter((name) => name === HEADER)).toHaveLength(1);
  });

  it("uses configured key names", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ keys: { tenantId: "tenant", departmentId: "dept" } }));

    // Act
    await runWithTenant({ tenantId: "acme", departmentId: "ops", userId: "u" }, () => client.send(new ConverseCommand(converseInput)));

    // Assess
    expect(bodyMetadata(only())).toEqual({ tenant: "acme", dept: "ops", userId: "u" });
  });

  it("does not change the caller's command input", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());
    const input = { ...converseInput, requestMetadata: { trace: "t" } };

    // Act
    await runWithTenant({ tenantId: "acme" }, () => client.send(new ConverseCommand(input)));

    // Assess
    expect(input.requestMetadata).toEqual({ trace: "t" });
    expect(bodyMetadata(only())).toEqual({ tenantId: "acme", trace: "t" });
  });
});

describe("Function: runWithTenant() isolation", () => {
  it("keeps 50 concurrent scopes apart whatever the order answers come back in", async () => {
    // Prepare
    const slow = await startBedrockServer({ delayMs: () => Math.floor(Math.random() * 40) });
    const client = slow.client();
    client.middlewareStack.use(tenantMetadata());
    const tenants = Array.from({ length: 50 }, (_, index) => `tenant-${index}`);

    try {
      // Act
      const results = await Promise.all(
        tenants.map((tenantId, index) =>
          runWithTenant({ tenantId, userId: `user-${index}` }, async () => {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
            const command =
              index % 2 === 0
                ? new ConverseCommand({ ...converseInput, requestMetadata: { call: String(index) } })
                : new InvokeModelCommand({ ...invokeInput, body: JSON.stringify({ call: String(index) }) });
            await client.send(command as ConverseCommand);
            return currentTenant()?.tenantId;
          }),
        ),
      );

      // Assess
      expect(results).toEqual(tenants);
      expect(slow.requests).toHaveLength(50);
      for (const request of slow.requests) {
        const metadata = (request.operation === "Converse" ? bodyMetadata(request) : headerMetadata(request)) as Record<string, string>;
        const index = request.operation === "Converse" ? metadata.call : (JSON.parse(request.body) as { call: string }).call;
        expect(metadata.tenantId).toBe(`tenant-${index}`);
        expect(metadata.userId).toBe(`user-${index}`);
      }
      expect(
        new Set(
          slow.requests.map(
            (request) => ((request.operation === "Converse" ? bodyMetadata(request) : headerMetadata(request)) as { tenantId: string }).tenantId,
          ),
        ).size,
      ).toBe(50);
    } finally {
      await slow.close();
    }
  });

  it("has no tenant outside a scope, and a nested scope replaces the outer one", async () => {
    // Act
    const seen = runWithTenant({ tenantId: "outer" }, () => [
      currentTenant()?.tenantId,
      runWithTenant({ tenantId: "inner" }, () => currentTenant()?.tenantId),
      currentTenant()?.tenantId,
    ]);

    // Assess
    expect(currentTenant()).toBeUndefined();
    expect(seen).toEqual(["outer", "inner", "outer"]);
  });

  it("copies the context: mutating the caller's object afterwards changes nothing", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());
    const context = { tenantId: "acme" };

    // Act
    await runWithTenant(context, async () => {
      context.tenantId = "mallory";
      await client.send(new ConverseCommand(converseInput));
    });

    // Assess
    expect(bodyMetadata(only())).toEqual({ tenantId: "acme" });
  });
});
