import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeControlChars, jsonErrorPosition, normalizeId } from "../src/text";

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe("Function: escapeControlChars()", () => {
  it("escapes line breaks and every other control character so that a value cannot forge a line", () => {
    expect(escapeControlChars("acme\r\nalert: globex reached 100%")).toBe("acme\\r\\nalert: globex reached 100%");
    expect(escapeControlChars("a\tb\vc\fd\u0000e\u001b[31mf\u007fg\u0085h")).toBe("a\\tb\\vc\\fd\\x00e\\x1b[31mf\\x7fg\\x85h");
  });

  it("never leaves a control character, and leaves printable text as it is", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (text) => !CONTROL.test(escapeControlChars(text))));
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }).filter((text) => !CONTROL.test(text)),
        (text) => escapeControlChars(text) === text,
      ),
    );
  });
});

describe("Function: normalizeId()", () => {
  it("removes surrounding whitespace as attribution does, and keeps inner whitespace", () => {
    expect(normalizeId(" acme\t")).toBe("acme");
    expect(normalizeId("\r\n acme corp \n")).toBe("acme corp");
    expect(normalizeId(" \t\n")).toBe("");
  });
});

describe("Function: jsonErrorPosition()", () => {
  it("reads the position of a JSON.parse failure and nothing of the text", () => {
    const failure = (text: string) => {
      try {
        JSON.parse(text);
      } catch (error) {
        return error;
      }
      throw new Error("parsed");
    };
    expect(jsonErrorPosition(failure('{"a":1,secret}'))).toBe(7);
    expect(jsonErrorPosition(failure("secret words"))).toBeUndefined();
    expect(jsonErrorPosition("not an error")).toBeUndefined();
  });
});
