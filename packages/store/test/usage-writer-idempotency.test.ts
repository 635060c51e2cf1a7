/**
 * UsageWriter's client request tokens on DynamoDB Local, which checks them as DynamoDB does: a
 * retry under a token must carry the token's first parameters, or DynamoDB answers
 * IdempotentParameterMismatch. Faults are injected by a middleware on the real client, so that the
 * first transaction reaches DynamoDB Local and commits before its caller sees a network error.
 */
import { type DynamoDBClient, GetItemCommand, type TransactWriteItemsCommandInput } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { AggregatesStore } from "../src/aggregates-store";
import { dedupKey } from "../src/keys";
import { type InvocationToCount, UsageWriter } from "../src/usage-writer";
import { freshTable, invocation } from "./helpers";

/** What was sent of each TransactWriteItems: the token and the request body as serialized for the wire. */
interface SentTransaction {
  token: string | undefined;
  body: string;
}

/**
 * Installs `fault` around each TransactWriteItems of `client`: it is given the call's number
 * (1-based), the input, and the way to send it on, and returns the result or throws.
 */
function onTransactions(
  client: DynamoDBClient,
  fault: (call: number, input: TransactWriteItemsCommandInput, send: (input: TransactWriteItemsCommandInput) => Promise<unknown>) => Promise<unknown>,
): SentTransaction[] {
  const sent: SentTransaction[] = [];
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "TransactWriteItemsCommand") return next(args);
      calls++;
      return (await fault(calls, args.input as TransactWriteItemsCommandInput, (input) => next({ ...args, input }))) as Awaited<ReturnType<typeof next>>;
    },
    { step: "initialize", name: "transactionFault" },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "TransactWriteItemsCommand") {
        const body = (args.request as { body?: string | Uint8Array }).body ?? "";
        sent.push({
          token: (args.input as TransactWriteItemsCommandInput).ClientRequestToken,
          body: typeof body === "string" ? body : new TextDecoder().decode(body),
        });
      }
      return next(args);
    },
    { step: "build", name: "transactionCapture" },
  );
  return sent;
}

/** A lost answer: the request was handled, the caller sees a socket timeout (what the SDK raises). */
const lostAnswer = () => Object.assign(new Error("socket timed out"), { name: "TimeoutError", $metadata: {} });

/** A writer whose clock moves `stepMs` forward during each backoff, as a real backoff would let it. */
function writerWithMovingClock(client: DynamoDBClient, tableName: string, stepMs: number): { writer: UsageWriter; clock: { now: number } } {
  const clock = { now: Date.parse("2026-11-27T10:00:00.500Z") };
  const writer = new UsageWriter({
    client,
    tableName,
    now: () => clock.now,
    retry: {
      random: () => 1,
      sleep: async () => {
        clock.now += stepMs;
      },
    },
  });
  return { writer, clock };
}

const origins = (list: readonly InvocationToCount[]) => list.map((item) => item.origin).sort();

async function countedAt(client: DynamoDBClient, tableName: string, requestId: string): Promise<string | undefined> {
  const { pk, sk } = dedupKey(requestId);
  const marker = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }));
  return marker.Item?.countedAt?.N;
}

describe("Class: UsageWriter, client request tokens on DynamoDB Local", () => {
  it("retries a lost answer under the same token with the same parameters, though seconds passed, and counts once", async () => {
    // Prepare: the first transaction commits but its answer is lost; the backoff lets 5 s pass
    const { client, tableName } = await freshTable();
    const sent = onTransactions(client, async (call, input, send) => {
      const result = await send(input);
      if (call === 1) throw lostAnswer();
      return result;
    });
    const { writer } = writerWithMovingClock(client, tableName, 5_000);
    const batch = [invocation("r1"), invocation("r2", { tenant: "globex" }), invocation("r3", { input: 1_000 })];

    // Act
    const outcome = await writer.write(batch);

    // Assess: the retry was the first request again, byte for byte, and DynamoDB answered it as committed
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(outcome.failed).toEqual([]);
    expect(origins(outcome.counted)).toEqual(["r1", "r2", "r3"]);
    expect(outcome.duplicates).toEqual([]);
    const store = new AggregatesStore(client, tableName);
    expect((await store.monthTotal("acme", "2026-11"))?.inputTokens).toBe(1_100);
    expect((await store.monthTotal("acme", "2026-11"))?.invocations).toBe(2);
    expect((await store.monthTotal("globex", "2026-11"))?.invocations).toBe(1);
    // Counted at the time of the first attempt, which is what committed
    expect(await countedAt(client, tableName, "r1")).toBe(String(Date.parse("2026-11-27T10:00:00Z") / 1000));
  });

  it("keeps the first parameters over several lost answers and throttles", async () => {
    const { client, tableName } = await freshTable();
    const sent = onTransactions(client, async (call, input, send) => {
      if (call === 2) throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
      const result = await send(input);
      if (call <= 3) throw lostAnswer();
      return result;
    });
    const { writer } = writerWithMovingClock(client, tableName, 1_500);

    const outcome = await writer.write([invocation("s1"), invocation("s2")]);

    expect(new Set(sent.map((transaction) => JSON.stringify(transaction))).size).toBe(1);
    expect(sent).toHaveLength(3);
    expect(outcome.failed).toEqual([]);
    expect(origins(outcome.counted)).toEqual(["s1", "s2"]);
    expect((await new AggregatesStore(client, tableName).monthTotal("acme", "2026-11"))?.invocations).toBe(2);
  });

  it("resends under a new token when DynamoDB answers IdempotentParameterMismatch, and the dedup markers keep the count at one", async () => {
    // Prepare: the first request commits and its answer is lost; the retry reaches DynamoDB changed
    // (as an older writer rebuilt it), so DynamoDB Local itself answers the mismatch
    const { client, tableName } = await freshTable();
    const errors: string[] = [];
    const sent = onTransactions(client, async (call, input, send) => {
      if (call === 1) {
        await send(input);
        throw lostAnswer();
      }
      try {
        return await send(call === 2 ? withUpdatedAt(input, "1") : input);
      } catch (error) {
        errors.push((error as Error).name);
        throw error;
      }
    });
    const { writer } = writerWithMovingClock(client, tableName, 5_000);

    // Act
    const outcome = await writer.write([invocation("m1"), invocation("m2", { tenant: "globex" })]);

    // Assess: mismatch, then a new token whose transaction finds both invocations counted
    expect(errors[0]).toBe("IdempotentParameterMismatchException");
    expect(sent).toHaveLength(3);
    expect(sent[1]?.token).toBe(sent[0]?.token);
    expect(sent[2]?.token).not.toBe(sent[0]?.token);
    expect(outcome.failed).toEqual([]);
    expect(outcome.counted).toEqual([]);
    expect(origins(outcome.duplicates)).toEqual(["m1", "m2"]);
    const store = new AggregatesStore(client, tableName);
    expect((await store.monthTotal("acme", "2026-11"))?.invocations).toBe(1);
    expect((await store.monthTotal("globex", "2026-11"))?.invocations).toBe(1);
  });

  it("counts a group whose token DynamoDB saw without this group committing, rather than take the mismatch for a commit", async () => {
    // Prepare: what DynamoDB saw first under the token commits something else (an unrelated item),
    // and its answer is lost; the writer's retry then differs from it. DynamoDB Local forgets the
    // token of a cancelled transaction, so a committed stand-in is what makes it remember one.
    const { client, tableName } = await freshTable();
    const errors: string[] = [];
    onTransactions(client, async (call, input, send) => {
      if (call === 1) {
        await send(withOnlyAnUnrelatedPut(input));
        throw lostAnswer();
      }
      return send(input).catch((error: Error) => {
        errors.push(error.name);
        throw error;
      });
    });
    const { writer } = writerWithMovingClock(client, tableName, 0);

    // Act
    const outcome = await writer.write([invocation("c1"), invocation("c2")]);

    // Assess
    expect(errors).toEqual(["IdempotentParameterMismatchException"]);
    expect(outcome.failed).toEqual([]);
    expect(origins(outcome.counted)).toEqual(["c1", "c2"]);
    expect((await new AggregatesStore(client, tableName).monthTotal("acme", "2026-11"))?.invocations).toBe(2);
  });
});

/** The input with every update's `:now` set to `seconds`: what a writer that rebuilt its items would send. */
function withUpdatedAt(input: TransactWriteItemsCommandInput, seconds: string): TransactWriteItemsCommandInput {
  return {
    ...input,
    TransactItems: (input.TransactItems ?? []).map((item) =>
      item.Update ? { Update: { ...item.Update, ExpressionAttributeValues: { ...item.Update.ExpressionAttributeValues, ":now": { N: seconds } } } } : item,
    ),
  };
}

/** The input's token on a transaction of one put of an item nothing reads. */
function withOnlyAnUnrelatedPut(input: TransactWriteItemsCommandInput): TransactWriteItemsCommandInput {
  const [first] = input.TransactItems ?? [];
  if (!first?.Put) throw new Error("expected the dedup put first");
  return { ...input, TransactItems: [{ Put: { TableName: first.Put.TableName, Item: { pk: { S: "PROBE#unrelated" }, sk: { S: "PROBE" } } } }] };
}
