/**
 * Trino (Athena engine v3) functions for DuckDB, as SQL macros, so that Athena-dialect queries run
 * unchanged on the local lake.
 *
 * Two kinds:
 * - functions DuckDB lacks (`approx_distinct`, `date_format`, `json_extract_scalar`, ...);
 * - functions DuckDB has under the same name with other semantics, shadowed by a macro with
 *   Trino's (`date_add(unit, n, t)`, `date_diff` in whole units, `regexp_replace` replacing every
 *   match, `element_at` and `cardinality` on arrays too, `millisecond` within the second). A
 *   shadowing macro calls the built-in as `system.main.<name>`.
 *
 * `date_parse` is not a macro and `date_format` is a macro over a function: both are written in
 * TypeScript (`functions.ts`), because DuckDB's `strptime` and `strftime` want a constant format.
 *
 * Checked against the Trino documentation; each one has a test. Known gaps, not shimmed: Joda
 * patterns (`format_datetime`, `parse_datetime`), lambdas passed to a macro (`transform`: DuckDB
 * has `list_transform` with the same arguments), `reduce`, `map_agg`, `format` (Java vs fmt
 * syntax), `approx_percentile` with weights, and types: `date_add` and `date_trunc` on a DATE
 * return a TIMESTAMP in DuckDB. `cost` cannot be a bare column label in DuckDB (`sum(x) cost` is
 * a syntax error; `sum(x) AS cost` is fine), unlike Trino.
 */

import { DATE_FORMAT_FUNCTION } from "./functions";

/** One shim macro. */
export interface TrinoShim {
  readonly name: string;
  /** The Trino signature(s) it provides. */
  readonly signature: string;
  /** `CREATE OR REPLACE MACRO ...` */
  readonly sql: string;
  /** True when it shadows a DuckDB built-in of the same name. */
  readonly shadows: boolean;
}

/**
 * `date_format(t, f)`: Trino's MySQL-style format (`%Y-%m-%d %H:%i:%s`), whose codes differ from
 * DuckDB's `strftime` for `%i`, `%M`, `%s`, `%W`, `%c`, `%e`, `%k`, `%l`, `%h`, `%r`, `%T`, `%v`,
 * `%x` and `%D`. Rendered by a TypeScript function (`functions.ts`): strftime wants a constant
 * format, so a macro translating the format has to call strftime once per specifier, which was
 * ten times slower. A TIMESTAMP WITH TIME ZONE is rendered in UTC (DuckDB keeps no zone per value).
 */
const DATE_FORMAT = `CREATE OR REPLACE MACRO date_format(t, f) AS ${DATE_FORMAT_FUNCTION}(CAST(t AS TIMESTAMP), f)`;

/**
 * Trino's regexp_replace replaces every match, and its replacement names groups `$1`; DuckDB's
 * replaces the first match unless given 'g', and names groups `\1`. The replacement is rewritten
 * token by token: `$n` -> `\n`, `\x` -> literal x, other text as is.
 */
const REPLACEMENT = String.raw`array_to_string(list_transform(regexp_extract_all(r, '\\.|\$\d|[^\\$]+|\$'), lambda tok:
    CASE
      WHEN tok = '\\' THEN tok
      WHEN starts_with(tok, '\') THEN substr(tok, 2)
      WHEN system.main.regexp_matches(tok, '^\$\d$') THEN '\' || substr(tok, 2)
      ELSE tok
    END), '')`;

const shim = (name: string, signature: string, body: string, shadows = false): TrinoShim => ({
  name,
  signature,
  sql: `CREATE OR REPLACE MACRO ${name}${body}`,
  shadows,
});

/** The shims, in creation order. */
export const TRINO_SHIMS: readonly TrinoShim[] = [
  // Aggregates.
  shim("approx_distinct", "approx_distinct(x [, e])", "(x) AS approx_count_distinct(x), (x, e) AS approx_count_distinct(x)"),
  shim("approx_percentile", "approx_percentile(x, p | ARRAY[p...])", "(x, p) AS approx_quantile(x, p)"),
  shim("every", "every(b)", "(b) AS bool_and(b)"),
  // JSON.
  shim(
    "json_extract_scalar",
    "json_extract_scalar(json, path)",
    "(j, p) AS CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END",
  ),
  shim("json_parse", "json_parse(s)", "(s) AS json(s)"),
  shim("json_format", "json_format(j)", "(j) AS CAST(j AS VARCHAR)"),
  shim(
    "json_size",
    "json_size(json, path)",
    "(j, p) AS CASE json_type(j, p) WHEN 'ARRAY' THEN json_array_length(j, p) WHEN 'OBJECT' THEN len(json_keys(j, p)) ELSE 0 END",
  ),
  // Date and time.
  shim("from_iso8601_timestamp", "from_iso8601_timestamp(s)", "(s) AS CAST(s AS TIMESTAMPTZ)"),
  shim("from_iso8601_date", "from_iso8601_date(s)", "(s) AS CAST(s AS DATE)"),
  shim(
    "to_iso8601",
    "to_iso8601(date | timestamp | timestamp with time zone)",
    "(x) AS CASE typeof(x) WHEN 'DATE' THEN strftime(x, '%Y-%m-%d') WHEN 'TIMESTAMP WITH TIME ZONE' THEN strftime(x, '%Y-%m-%dT%H:%M:%S.%gZ') ELSE strftime(x, '%Y-%m-%dT%H:%M:%S.%g') END",
  ),
  shim("from_unixtime", "from_unixtime(seconds)", "(x) AS to_timestamp(x)"),
  shim("to_unixtime", "to_unixtime(t)", "(t) AS epoch(t)"),
  { name: "date_format", signature: "date_format(t, format)", sql: DATE_FORMAT, shadows: false },
  shim("date_add", "date_add(unit, n, t)", "(unit, n, t) AS t + n * CAST('1 ' || unit AS INTERVAL)", true),
  shim("date_diff", "date_diff(unit, t1, t2) in whole units", "(unit, a, b) AS system.main.date_sub(unit, a, b)", true),
  shim("date", "date(x)", "(x) AS CAST(x AS DATE)"),
  shim("day_of_week", "day_of_week(t), 1 = Monday", "(t) AS isodow(t)"),
  shim("dow", "dow(t)", "(t) AS isodow(t)"),
  shim("day_of_month", "day_of_month(t)", "(t) AS day(t)"),
  shim("day_of_year", "day_of_year(t)", "(t) AS dayofyear(t)"),
  shim("doy", "doy(t)", "(t) AS dayofyear(t)"),
  shim("week_of_year", "week_of_year(t), ISO week", "(t) AS week(t)"),
  shim("year_of_week", "year_of_week(t), ISO year", "(t) AS isoyear(t)"),
  shim("yow", "yow(t)", "(t) AS isoyear(t)"),
  shim("last_day_of_month", "last_day_of_month(t)", "(t) AS last_day(t)"),
  shim("millisecond", "millisecond(t), 0-999", "(t) AS system.main.millisecond(t) % 1000", true),
  shim("current_timezone", "current_timezone()", "() AS current_setting('TimeZone')"),
  // Strings and regular expressions.
  shim("regexp_like", "regexp_like(s, pattern)", "(s, p) AS regexp_matches(s, p)"),
  shim("regexp_count", "regexp_count(s, pattern)", "(s, p) AS len(regexp_extract_all(s, p))"),
  shim("regexp_split", "regexp_split(s, pattern)", "(s, p) AS regexp_split_to_array(s, p)"),
  shim(
    "regexp_replace",
    "regexp_replace(s, pattern [, replacement]): every match, $n groups",
    `(s, p) AS system.main.regexp_replace(s, p, '', 'g'), (s, p, r) AS system.main.regexp_replace(s, p, ${REPLACEMENT}, 'g')`,
    true,
  ),
  shim("codepoint", "codepoint(c)", "(c) AS unicode(c)"),
  shim("levenshtein_distance", "levenshtein_distance(a, b)", "(a, b) AS levenshtein(a, b)"),
  shim("hamming_distance", "hamming_distance(a, b)", "(a, b) AS hamming(a, b)"),
  shim("to_utf8", "to_utf8(s)", "(s) AS encode(s)"),
  shim("from_utf8", "from_utf8(b)", "(b) AS decode(b)"),
  // Arrays and maps.
  shim("element_at", "element_at(array, i) | element_at(map, key)", "(c, k) AS c[k]", true),
  shim(
    "cardinality",
    "cardinality(array | map)",
    "(x) AS CASE json_type(to_json(x)) WHEN 'ARRAY' THEN json_array_length(to_json(x)) WHEN 'OBJECT' THEN len(json_keys(to_json(x))) END",
    true,
  ),
  shim("array_join", "array_join(array, separator)", "(a, sep) AS array_to_string(a, sep)"),
  shim("array_max", "array_max(array)", "(a) AS list_max(a)"),
  shim("array_min", "array_min(array)", "(a) AS list_min(a)"),
  // Numbers.
  shim("truncate", "truncate(x)", "(x) AS trunc(x)"),
  shim("is_nan", "is_nan(x)", "(x) AS isnan(x)"),
  shim("nan", "nan()", "() AS CAST('NaN' AS DOUBLE)"),
  shim("infinity", "infinity()", "() AS CAST('Infinity' AS DOUBLE)"),
];
