/**
 * Clocks and UTC calendar periods: the instants the local commands accept, clocks pinned or
 * started at a chosen instant, and the month and day of any instant.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clockStartingAt, fixedClock, parseInstant } from "../src/clock";
import { isDayKey, isMonthKey, utcDayOf, utcMonthOf } from "../src/periods";

describe("Function: parseInstant()", () => {
  it.each([
    ["2026-11-27T10:00:00Z", Date.UTC(2026, 10, 27, 10)],
    ["2026-11-27T10:00Z", Date.UTC(2026, 10, 27, 10)],
    ["2026-11-27T10:00:00.123Z", Date.UTC(2026, 10, 27, 10, 0, 0, 123)],
    ["2026-11-27T11:00:00+01:00", Date.UTC(2026, 10, 27, 10)],
    ["2028-02-29T23:59:59Z", Date.UTC(2028, 1, 29, 23, 59, 59)],
    ["2027-01-01T00:30:00+01:00", Date.UTC(2026, 11, 31, 23, 30)],
  ])("reads %s", (text, expected) => {
    expect(parseInstant(text)).toBe(expected);
  });

  it.each([
    ["a date without a time", "2026-11-27"],
    ["a time without a zone (the machine's zone would decide)", "2026-11-27T10:00:00"],
    ["a day that does not exist", "2026-02-29T10:00:00Z"],
    ["31 November", "2026-11-31T00:00:00Z"],
    ["an hour out of range", "2026-11-27T25:00:00Z"],
    ["words", "now"],
  ])("refuses %s", (_what, text) => {
    expect(parseInstant(text)).toBeUndefined();
  });
});

describe("Clocks", () => {
  it("fixedClock stays at its instant", () => {
    const clock = fixedClock("2027-01-01T00:00:00Z");
    expect(clock()).toBe(Date.UTC(2027, 0, 1));
    expect(clock()).toBe(Date.UTC(2027, 0, 1));
    expect(() => fixedClock("2027-01-01")).toThrow(/not an ISO 8601 instant/);
  });

  it("clockStartingAt reads its instant, then runs with elapsed time", () => {
    let elapsed = 500.4;
    const clock = clockStartingAt("2026-12-31T23:59:59Z", () => elapsed);
    expect(utcMonthOf(clock())).toBe("2026-12");
    elapsed += 1000;
    expect(clock()).toBe(Date.UTC(2027, 0, 1));
    expect(utcMonthOf(clock())).toBe("2027-01");
  });
});

describe("Functions: utcMonthOf(), utcDayOf()", () => {
  it.each([
    [Date.UTC(2028, 1, 29, 23, 59, 59, 999), "2028-02", "2028-02-29"],
    [Date.UTC(2028, 2, 1), "2028-03", "2028-03-01"],
    [Date.UTC(2026, 11, 31, 23, 59, 59, 999), "2026-12", "2026-12-31"],
    [Date.UTC(2027, 0, 1), "2027-01", "2027-01-01"],
  ])("put %i in %s, %s", (instant, month, day) => {
    expect(utcMonthOf(instant)).toBe(month);
    expect(utcDayOf(instant)).toBe(day);
  });

  it("agree with the UTC calendar fields of any instant", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (instant) => {
        const date = new Date(instant);
        const month = utcMonthOf(instant);
        const day = utcDayOf(instant);
        expect(isMonthKey(month) && isDayKey(day) && day.startsWith(month)).toBe(true);
        expect(Number(month.slice(0, 4))).toBe(date.getUTCFullYear());
        expect(Number(month.slice(5, 7))).toBe(date.getUTCMonth() + 1);
        expect(Number(day.slice(8, 10))).toBe(date.getUTCDate());
      }),
    );
  });
});
