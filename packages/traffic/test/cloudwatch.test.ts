import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeBytes, decodeText, defaultCatalog, Pricer, StaticProfileMap } from "../../core/src/index";
import {
  APPLICATION_PROFILES,
  controlMessagePayload,
  encodeKinesisData,
  generateTraffic,
  itemLine,
  logEventId,
  type SubscriptionPayload,
  toFilterLogEventsOutput,
  toJsonLines,
  toSubscriptionPayloads,
} from "../src/index";

const items = [...generateTraffic({ seed: 12, count: 230, malformedFraction: 0.05 })];

describe("CloudWatch Logs subscription payloads", () => {
  const payloads = [...toSubscriptionPayloads(items)];

  it("batches 50 log events per payload, in order, with the Bedrock log stream", () => {
    expect(payloads.map((payload) => payload.logEvents.length)).toEqual([50, 50, 50, 50, 31]);
    const messages = payloads.flatMap((payload) => payload.logEvents.map((event) => event.message));
    expect(messages).toEqual(items.map(itemLine));
    for (const payload of payloads) {
      expect(payload).toMatchObject({
        messageType: "DATA_MESSAGE",
        owner: "123456789012",
        logGroup: "/aws/bedrock/modelinvocations",
        logStream: "aws/bedrock/modelinvocations",
        subscriptionFilters: ["bedrock-spend"],
      });
      expect(Object.keys(payload)).toEqual(["messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents"]);
    }
  });

  it("gives log events unique, time-ordered 56-digit ids", () => {
    const events = payloads.flatMap((payload) => payload.logEvents);
    const ids = events.map((event) => event.id);
    for (const id of ids) expect(id).toMatch(/^\d{56}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const numbers = ids.map((id) => BigInt(id));
    expect(numbers.every((id, i) => i === 0 || id > (numbers[i - 1] ?? 0n))).toBe(true);
    // The real id's high bits are the event time in ms.
    expect(BigInt(logEventId(1432826855000, 0)) >> 144n).toBe(1432826855000n);
    expect(logEventId(Date.parse("2026-11-27T10:00:00Z"), 7)).toHaveLength(56);
  });

  it("encodes Kinesis data as base64 of gzip that the core decodes back to the same items", () => {
    const [first] = payloads;
    if (!first) throw new Error("no payload");
    const data = encodeKinesisData(first);
    expect(data).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8"))).toEqual(payloads[0]);
    expect(encodeKinesisData(first)).toBe(data);
    const decoded = decodeBytes(Buffer.from(data, "base64"));
    expect(decoded).toHaveLength(50);
    const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });
    const kinds = decoded.map((item) => pricer.priceItem(item).kind);
    const expected = items.slice(0, 50).map((item) => (item.kind === "record" ? "usage" : item.kind === "permissions-line" ? "skipped" : "invalid"));
    expect(expected).toContain("invalid");
    expect(kinds).toEqual(expected);
    // Base64 lines, as a .b64 file holds them, decode too.
    expect(decodeText(`${data}\n`)).toHaveLength(50);
  });

  it("builds a control message that the core skips", () => {
    const control: SubscriptionPayload = controlMessagePayload(Date.parse("2026-11-27T09:59:00Z"));
    expect(control.messageType).toBe("CONTROL_MESSAGE");
    const decoded = decodeBytes(Buffer.from(encodeKinesisData(control), "base64"));
    expect(decoded).toEqual([expect.objectContaining({ kind: "skipped", skip: "control-message" })]);
  });

  it("honours eventsPerPayload and refuses nonsense", () => {
    expect([...toSubscriptionPayloads(items, { eventsPerPayload: 100 })].map((payload) => payload.logEvents.length)).toEqual([100, 100, 31]);
    expect(() => [...toSubscriptionPayloads(items, { eventsPerPayload: 0 })]).toThrow(RangeError);
  });
});

describe("filter-log-events output and JSON Lines", () => {
  it("prints events the core reads as the same items", () => {
    const output = toFilterLogEventsOutput(items);
    expect(output.events).toHaveLength(items.length);
    for (const event of output.events) {
      expect(event.logStreamName).toBe("aws/bedrock/modelinvocations");
      expect(event.ingestionTime).toBeGreaterThan(event.timestamp);
      expect(event.eventId).toMatch(/^\d{56}$/);
    }
    const decoded = decodeText(JSON.stringify(output, null, 4));
    expect(decoded).toHaveLength(items.length);
  });

  it("writes one line per item", () => {
    const text = toJsonLines(items);
    expect(text.endsWith("\n")).toBe(true);
    expect(text.split("\n")).toHaveLength(items.length + 1);
    expect(decodeText(text)).toHaveLength(items.length);
  });
});
