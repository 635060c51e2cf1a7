import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalAthena, QueryError, TRINO_FUNCTIONS, TRINO_SHIMS } from "../src/index";
import { tempLake } from "./helpers";

let lake: Awaited<ReturnType<typeof tempLake>>;
let athena: LocalAthena;

beforeAll(async () => {
  lake = await tempLake();
  athena = await LocalAthena.open({ lakeDir: lake.dir });
});

afterAll(async () => {
  await athena.close();
  await lake.remove();
});

/** The single value of a one-row, one-column query. */
async function value(expression: string): Promise<unknown> {
  const { rows } = await athena.query(`SELECT ${expression} AS v`);
  return rows[0]?.v;
}

const T = "TIMESTAMP '2026-11-07 14:05:09.123'"; // a Saturday, day 311, ISO week 45

/** Athena (Trino) behaviour of each shim, by function name: every shim must have a case here. */
const CASES: Record<string, () => Promise<void>> = {
  approx_distinct: async () => {
    const { rows } = await athena.query("SELECT approx_distinct(x) AS a, approx_distinct(x, 0.01) AS b FROM (VALUES (1), (2), (2), (3)) AS t (x)");
    expect(rows[0]).toEqual({ a: 3, b: 3 });
  },
  approx_percentile: async () => {
    const { rows } = await athena.query("SELECT approx_percentile(x, 0.5) AS p, approx_percentile(x, ARRAY[0.1, 0.9]) AS ps FROM range(1, 101) AS t (x)");
    expect(rows[0]?.p).toBeGreaterThanOrEqual(45);
    expect(rows[0]?.p).toBeLessThanOrEqual(55);
    expect(rows[0]?.ps).toHaveLength(2);
  },
  every: async () => {
    const { rows } = await athena.query("SELECT every(x > 0) AS a, every(x > 1) AS b FROM (VALUES (1), (2)) AS t (x)");
    expect(rows[0]).toEqual({ a: true, b: false });
  },
  json_extract_scalar: async () => {
    const json = `'{"a": {"b": "x"}, "n": 5, "arr": [1], "z": null}'`;
    expect(await value(`json_extract_scalar(${json}, '$.a.b')`)).toBe("x");
    expect(await value(`json_extract_scalar(${json}, '$.n')`)).toBe("5");
    expect(await value(`json_extract_scalar(${json}, '$.a')`)).toBeNull();
    expect(await value(`json_extract_scalar(${json}, '$.arr')`)).toBeNull();
    expect(await value(`json_extract_scalar(${json}, '$.z')`)).toBeNull();
    expect(await value(`json_extract_scalar(${json}, '$.missing')`)).toBeNull();
  },
  json_parse: async () => {
    expect(await value(`json_extract_scalar(json_parse('{"a": [1, 2]}'), '$.a[1]')`)).toBe("2");
  },
  json_format: async () => {
    expect(await value(`json_format(json_parse('{ "a" : 1 }'))`)).toBe('{"a":1}');
  },
  json_size: async () => {
    expect(await value(`json_size('{"x": {"a": 1, "b": 2}}', '$.x')`)).toBe(2);
    expect(await value(`json_size('{"x": [1, 2, 3]}', '$.x')`)).toBe(3);
    expect(await value(`json_size('{"x": 1}', '$.x')`)).toBe(0);
  },
  from_iso8601_timestamp: async () => {
    expect(await value("from_iso8601_timestamp('2026-11-27T10:00:00Z')")).toBe("2026-11-27T10:00:00Z");
    expect(await value("from_iso8601_timestamp('2026-11-27T12:00:00.250+02:00')")).toBe("2026-11-27T10:00:00.250Z");
  },
  from_iso8601_date: async () => {
    expect(await value("from_iso8601_date('2026-11-27')")).toBe("2026-11-27");
  },
  to_iso8601: async () => {
    expect(await value("to_iso8601(TIMESTAMP '2026-11-27 10:00:00')")).toBe("2026-11-27T10:00:00.000");
    expect(await value("to_iso8601(from_iso8601_timestamp('2026-11-27T10:00:00.5Z'))")).toBe("2026-11-27T10:00:00.500Z");
    expect(await value("to_iso8601(DATE '2026-11-27')")).toBe("2026-11-27");
  },
  from_unixtime: async () => {
    expect(await value("from_unixtime(1795773600)")).toBe("2026-11-27T10:00:00Z");
  },
  to_unixtime: async () => {
    expect(await value("to_unixtime(TIMESTAMP '2026-11-27 10:00:00.5')")).toBe(1795773600.5);
  },
  date_format: async () => {
    const formats: [string, string][] = [
      ["%Y-%m-%d %H:%i:%s", "2026-11-07 14:05:09"],
      ["%Y-%m-%d", "2026-11-07"],
      ["%a %b %c %D %e", "Sat Nov 11 7th 7"],
      ["%f", "123000"],
      ["%h %I %k %l %p", "02 02 14 2 PM"],
      ["%j", "311"],
      ["%M %W", "November Saturday"],
      ["%r | %T", "02:05:09 PM | 14:05:09"],
      ["%S %s", "09 09"],
      ["%v %x", "45 2026"],
      ["%y", "26"],
      ["100%% at %Q", "100% at Q"],
      ["Day: %d.", "Day: 07."],
      ["", ""],
    ];
    for (const [format, expected] of formats) expect(await value(`date_format(${T}, '${format}')`), format).toBe(expected);
    for (const [day, suffix] of [
      ["01", "1st"],
      ["02", "2nd"],
      ["03", "3rd"],
      ["11", "11th"],
      ["12", "12th"],
      ["13", "13th"],
      ["21", "21st"],
      ["22", "22nd"],
      ["23", "23rd"],
      ["30", "30th"],
    ]) {
      expect(await value(`date_format(DATE '2026-01-${day}', '%D')`)).toBe(suffix);
    }
    // DuckDB keeps no zone per value: a timestamp with time zone is rendered in UTC (Trino would use its -02:00).
    expect(await value("date_format(from_iso8601_timestamp('2026-11-27T23:30:00-02:00'), '%Y-%m-%d %H')")).toBe("2026-11-28 01");
    expect(await value("date_format(DATE '2026-11-27', '%Y-%m-%d %H:%i')")).toBe("2026-11-27 00:00");
    const { rows } = await athena.query(
      "SELECT date_format(t, '%Y-%m-%d') AS d FROM (VALUES (TIMESTAMP '2026-11-27 10:00:00'), (NULL), (TIMESTAMP '1969-12-31 23:59:59.999')) AS v (t)",
    );
    expect(rows.map((row) => row.d)).toEqual(["2026-11-27", null, "1969-12-31"]);
    expect(await value("date_format(CAST(NULL AS TIMESTAMP), '%Y')")).toBeNull();
    await expect(athena.query(`SELECT date_format(${T}, '%U')`)).rejects.toThrow(/%U not supported/);
  },
  date_add: async () => {
    expect(await value("date_add('day', 2, TIMESTAMP '2026-11-30 10:00:00')")).toBe("2026-12-02T10:00:00Z");
    expect(await value("date_add('hour', -3, TIMESTAMP '2026-12-01 01:00:00')")).toBe("2026-11-30T22:00:00Z");
    expect(await value("date_add('month', 1, TIMESTAMP '2026-01-31 00:00:00')")).toBe("2026-02-28T00:00:00Z");
    expect(await value("date_add('week', 1, TIMESTAMP '2026-11-27 00:00:00')")).toBe("2026-12-04T00:00:00Z");
  },
  date_diff: async () => {
    expect(await value("date_diff('day', TIMESTAMP '2026-11-07 23:00:00', TIMESTAMP '2026-11-08 01:00:00')")).toBe(0);
    expect(await value("date_diff('hour', TIMESTAMP '2026-11-07 23:00:00', TIMESTAMP '2026-11-08 01:00:00')")).toBe(2);
    expect(await value("date_diff('day', DATE '2026-11-01', DATE '2026-12-01')")).toBe(30);
  },
  date: async () => {
    expect(await value("date(TIMESTAMP '2026-11-27 10:00:00')")).toBe("2026-11-27");
  },
  day_of_week: async () => {
    expect(await value("day_of_week(DATE '2026-11-07')")).toBe(6);
    expect(await value("day_of_week(DATE '2026-11-08')")).toBe(7);
  },
  dow: async () => {
    expect(await value("dow(DATE '2026-11-09')")).toBe(1);
  },
  day_of_month: async () => {
    expect(await value(`day_of_month(${T})`)).toBe(7);
  },
  day_of_year: async () => {
    expect(await value(`day_of_year(${T})`)).toBe(311);
  },
  doy: async () => {
    expect(await value(`doy(${T})`)).toBe(311);
  },
  week_of_year: async () => {
    expect(await value(`week_of_year(${T})`)).toBe(45);
  },
  year_of_week: async () => {
    expect(await value("year_of_week(DATE '2027-01-01')")).toBe(2026);
  },
  yow: async () => {
    expect(await value("yow(DATE '2027-01-01')")).toBe(2026);
  },
  last_day_of_month: async () => {
    expect(await value("last_day_of_month(DATE '2026-02-10')")).toBe("2026-02-28");
  },
  millisecond: async () => {
    expect(await value(`millisecond(${T})`)).toBe(123);
  },
  current_timezone: async () => {
    expect(await value("current_timezone()")).toBe("UTC");
  },
  regexp_like: async () => {
    expect(await value(String.raw`regexp_like('us.anthropic.claude', '^us\.')`)).toBe(true);
    expect(await value("regexp_like('anthropic.claude', 'claude')")).toBe(true);
  },
  regexp_count: async () => {
    expect(await value(String.raw`regexp_count('a1b22c333', '\d+')`)).toBe(3);
  },
  regexp_split: async () => {
    expect(await value(String.raw`regexp_split('a1b22c', '\d+')`)).toEqual(["a", "b", "c"]);
  },
  regexp_replace: async () => {
    expect(await value(String.raw`regexp_replace('a.b.c', '\.')`)).toBe("abc");
    expect(await value(String.raw`regexp_replace('a.b.c', '\.', '-')`)).toBe("a-b-c");
    expect(await value(String.raw`regexp_replace('2026-11-27', '(\d+)-(\d+)-(\d+)', '$3/$2/$1')`)).toBe("27/11/2026");
    expect(await value(String.raw`regexp_replace('a.b', '\.', '\$')`)).toBe("a$b");
    expect(await value(String.raw`regexp_replace('global.anthropic.claude', '^(global|us|eu)\.', '')`)).toBe("anthropic.claude");
  },
  codepoint: async () => {
    expect(await value("codepoint('A')")).toBe(65);
  },
  levenshtein_distance: async () => {
    expect(await value("levenshtein_distance('kitten', 'sitting')")).toBe(3);
  },
  hamming_distance: async () => {
    expect(await value("hamming_distance('abc', 'abd')")).toBe(1);
  },
  to_utf8: async () => {
    expect(await value("octet_length(to_utf8('héllo'))")).toBe(6);
  },
  from_utf8: async () => {
    expect(await value("from_utf8(to_utf8('héllo'))")).toBe("héllo");
  },
  element_at: async () => {
    expect(await value("element_at(MAP(ARRAY['a'], ARRAY['b']), 'a')")).toBe("b");
    expect(await value("element_at(MAP(ARRAY['a'], ARRAY['b']), 'z')")).toBeNull();
    expect(await value("element_at(ARRAY[1, 2, 3], -1)")).toBe(3);
    expect(await value("element_at(ARRAY[1, 2, 3], 5)")).toBeNull();
  },
  cardinality: async () => {
    expect(await value("cardinality(ARRAY[1, 2, 3])")).toBe(3);
    expect(await value("cardinality(MAP(ARRAY['a', 'b'], ARRAY['x', 'y']))")).toBe(2);
  },
  array_join: async () => {
    expect(await value("array_join(ARRAY['a', 'b'], ',')")).toBe("a,b");
  },
  array_max: async () => {
    expect(await value("array_max(ARRAY[1, 5, 3])")).toBe(5);
  },
  array_min: async () => {
    expect(await value("array_min(ARRAY[4, 1, 3])")).toBe(1);
  },
  truncate: async () => {
    expect(await value("truncate(CAST(2.7 AS DOUBLE))")).toBe(2);
  },
  is_nan: async () => {
    expect(await value("is_nan(nan())")).toBe(true);
  },
  nan: async () => {
    expect(await value("nan()")).toBe("NaN");
  },
  infinity: async () => {
    expect(await value("infinity()")).toBe("Infinity");
  },
  date_parse: async () => {
    expect(await value("date_parse('2026-11-27 10:05:09', '%Y-%m-%d %H:%i:%s')")).toBe("2026-11-27T10:05:09Z");
    expect(await value("date_parse('20261127', '%Y%m%d')")).toBe("2026-11-27T00:00:00Z");
    expect(await value("date_parse('27/Nov/2026:02:05:09 PM', '%d/%b/%Y:%r')")).toBe("2026-11-27T14:05:09Z");
    expect(await value("date_parse('November 7 2026 14:05:09.123456', '%M %e %Y %T.%f')")).toBe("2026-11-07T14:05:09.123Z");
    expect(await value("date_parse('2026-311', '%Y-%j')")).toBe("2026-11-07T00:00:00Z");
    expect(await value("date_parse(NULL, '%Y')")).toBeNull();
    await expect(athena.query("SELECT date_parse('2026-02-30', '%Y-%m-%d')")).rejects.toThrow(/out of range/);
    await expect(athena.query("SELECT date_parse('2026/11/27', '%Y-%m-%d')")).rejects.toThrow(/Invalid format/);
    await expect(athena.query("SELECT date_parse('2026', '%U')")).rejects.toThrow(/%U not supported/);
  },
};

describe("Trino shims", () => {
  it("has a case for every shim and function", () => {
    const names = [...TRINO_SHIMS.map((shim) => shim.name), ...TRINO_FUNCTIONS.map((fn) => fn.name)];
    expect(new Set(Object.keys(CASES))).toEqual(new Set(names));
    expect(new Set(names).size).toBe(names.length);
  });

  for (const [name, run] of Object.entries(CASES)) it(name, run);

  it("reports a failing shim as a QueryError with DuckDB's message", async () => {
    const error = await athena.query("SELECT json_extract_scalar('{not json', '$.a')").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).kind).toBe("failed");
    expect((error as QueryError).message).toMatch(/JSON/);
  });
});
