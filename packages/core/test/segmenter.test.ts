import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonSegmenter, type Segment, segmentText } from "../src/decode/segmenter";

function segmentInChunks(text: string, size: number, options?: ConstructorParameters<typeof JsonSegmenter>[0]): Segment[] {
  const segmenter = new JsonSegmenter(options);
  const out: Segment[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...segmenter.push(text.slice(i, i + size)));
  out.push(...segmenter.end());
  return out;
}

describe("Class: JsonSegmenter", () => {
  it("splits JSON Lines into one segment per line, with line numbers", () => {
    // Prepare
    const text = '{"a":1}\n{"b":"x}y"}\r\n\n{"c":[1,{"d":"\\""}]}\n';

    // Act
    const segments = segmentText(text);

    // Assess
    expect(segments).toEqual([
      { kind: "json", text: '{"a":1}', line: 1 },
      { kind: "json", text: '{"b":"x}y"}', line: 2 },
      { kind: "json", text: '{"c":[1,{"d":"\\""}]}', line: 4 },
    ]);
  });

  it("keeps a pretty-printed document whole", () => {
    const document = JSON.stringify({ events: [{ message: "{}" }, { message: "x" }], nextToken: "t" }, null, 2);
    expect(segmentText(document)).toEqual([{ kind: "json", text: document, line: 1 }]);
  });

  it("emits the elements of a root array one by one", () => {
    const text = '[\n  {"a":1},\n  {"b":[2,3]},\n  7,\n  "s,]"\n]\n';
    expect(segmentText(text)).toEqual([
      { kind: "json", text: '{"a":1}', line: 2 },
      { kind: "json", text: '{"b":[2,3]}', line: 3 },
      { kind: "json", text: "7", line: 4 },
      { kind: "json", text: '"s,]"', line: 5 },
    ]);
  });

  it("returns non-JSON lines as text without the carriage return", () => {
    expect(segmentText("Permissions are correctly set for Amazon Bedrock logs.\r\nH4sIAAAA\n")).toEqual([
      { kind: "text", text: "Permissions are correctly set for Amazon Bedrock logs.", line: 1 },
      { kind: "text", text: "H4sIAAAA", line: 2 },
    ]);
  });

  it("reports a truncated line in JSON Lines and keeps reading the lines after it", () => {
    // Prepare: the second line was cut inside a string, the fourth outside one
    const text = '{"a":1}\n{"b":"cut\n{"c":3}\n{"d":[1,\n{"e":5}\n';

    // Act
    const segments = segmentText(text);

    // Assess
    expect(segments.map((segment) => [segment.kind, segment.line])).toEqual([
      ["json", 1],
      ["error", 2],
      ["json", 3],
      ["error", 4],
      ["json", 5],
    ]);
    expect(segments[1]).toMatchObject({ kind: "error", field: "json", text: '{"b":"cut' });
    expect((segments[1] as { reason: string }).reason).toContain("truncated line");
  });

  it("reports a first line cut off as one line when the input is known to be JSON Lines, and keeps the lines after it", () => {
    // Prepare: Bedrock's S3 objects are JSON Lines; here the very first line is cut, outside and inside a string
    const outside = '{"a":[1,\n{"b":2}\n{"c":3}\n';
    const inside = '{"a":"cut\n{"b":2}\n';

    // Act
    const known = segmentText(outside, { jsonLines: true });
    const guessed = segmentText(outside);

    // Assess: known or guessed (the next line opens a value at its first column), each line stands alone
    expect(known.map((segment) => [segment.kind, segment.line])).toEqual([
      ["error", 1],
      ["json", 2],
      ["json", 3],
    ]);
    expect(known[0]).toMatchObject({ text: '{"a":[1,' });
    expect(segmentText(inside, { jsonLines: true }).map((segment) => segment.kind)).toEqual(["error", "json"]);
    expect(guessed.map((segment) => [segment.kind, segment.line])).toEqual([
      ["error", 1],
      ["json", 2],
      ["json", 3],
    ]);
  });

  it("reads again line by line the JSON Lines after a first line cut off, whatever the chunks, and leaves a cut pretty-printed document whole", () => {
    // Prepare: JSON Lines whose first line lost its end (a gzip object's first record cut), fed in chunks of any size
    const lines = '{"requestId":"cut\n{"requestId":"a"}\n{"requestId":"b"}\n';
    const pretty = '{\n  "logEvents": [\n    {"id": "1"},\n    {"id": "2"';

    // Act
    const chunked = (text: string, size: number) => {
      const segmenter = new JsonSegmenter();
      const out: Segment[] = [];
      for (let at = 0; at < text.length; at += size) out.push(...segmenter.push(text.slice(at, at + size)));
      return [...out, ...segmenter.end()];
    };

    // Assess
    for (const size of [1, 3, 7, lines.length]) {
      expect(chunked(lines, size).map((segment) => [segment.kind, segment.line, segment.text])).toEqual([
        ["error", 1, '{"requestId":"cut'],
        ["json", 2, '{"requestId":"a"}'],
        ["json", 3, '{"requestId":"b"}'],
      ]);
    }
    expect(segmentText(pretty).map((segment) => [segment.kind, segment.line])).toEqual([["error", 1]]);
  });

  it("reports a value truncated by the end of input", () => {
    const segments = segmentText('{"a":1}\n{"b":{"c":');
    expect(segments[1]).toMatchObject({ kind: "error", line: 2, text: '{"b":{"c":' });
  });

  it("refuses nesting deeper than the limit without overflowing the stack", () => {
    const deep = `{"x":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    const [segment] = segmentText(deep);
    expect(segment).toMatchObject({ kind: "error", field: "json" });
    expect((segment as { reason: string }).reason).toContain("10001 levels deep");
  });

  it("drops an oversized value but keeps its prefix and the values after it", () => {
    // Prepare
    const big = `{"body":"${"x".repeat(5000)}"}`;

    // Act
    const segments = segmentInChunks(`${big}\n{"ok":true}\n`, 512, { maxSegmentChars: 1000 });

    // Assess
    expect(segments).toHaveLength(2);
    expect(segments[0]).toMatchObject({ kind: "error", line: 1 });
    expect((segments[0] as { reason: string }).reason).toMatch(/is 50\d\d characters long, over the 1000 limit/);
    expect((segments[0] as { text: string }).text.startsWith('{"body":"xxx')).toBe(true);
    expect(segments[1]).toEqual({ kind: "json", text: '{"ok":true}', line: 2 });
  });

  it("gives the same segments whatever the chunk boundaries", () => {
    const json = fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value));
    const line = fc.oneof(json, fc.constantFrom("Permissions are correctly set for Amazon Bedrock logs.", "H4sIAAAAAAAA", "garbage text"));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.integer({ min: 1, max: 40 }), (lines, size) => {
        const text = `${lines.join("\n")}\n`;
        expect(segmentInChunks(text, size)).toEqual(segmentText(text));
      }),
    );
  });

  it("turns every JSON Lines value back into the value it was", () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), { maxLength: 10 }), (objects) => {
        const text = objects.map((object) => JSON.stringify(object)).join("\n");
        const parsed = segmentText(text).map((segment) => JSON.parse(segment.text));
        expect(parsed).toEqual(objects.map((object) => JSON.parse(JSON.stringify(object))));
      }),
    );
  });

  it("never throws on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (text, size) => {
        const segments = segmentInChunks(text, size);
        for (const segment of segments) expect(["json", "text", "error"]).toContain(segment.kind);
      }),
      { numRuns: 500 },
    );
  });
});
