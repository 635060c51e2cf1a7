/**
 * Trino functions that cannot be DuckDB macros, as scalar functions written in TypeScript.
 *
 * `date_parse(string, format)`: DuckDB's `strptime` insists on a constant format, and a macro that
 * translates Trino's MySQL-style format into strptime codes is refused at creation for that
 * reason, so the parse is done here: the format becomes a regular expression (memoized), the
 * fields are checked, and the result is a TIMESTAMP truncated to milliseconds (Trino's
 * timestamp(3)). Fields not in the format default to 1970-01-01 00:00:00, as in Trino.
 */
import { type DuckDBConnection, DuckDBScalarFunction, DuckDBTimestampValue, TIMESTAMP, VARCHAR } from "@duckdb/node-api";

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday";

type Field = "year" | "year2" | "month" | "monthName" | "day" | "hour" | "hour12" | "minute" | "second" | "fraction" | "ampm" | "dayOfYear" | "ignored";

/** What each Trino specifier reads: a field and its pattern, or literal text. */
const SPECIFIERS: Readonly<Record<string, readonly [Field, string] | string>> = {
  Y: ["year", "\\d{4}"],
  y: ["year2", "\\d{2}"],
  m: ["month", "\\d{1,2}"],
  c: ["month", "\\d{1,2}"],
  b: ["monthName", MONTHS.map((month) => month.slice(0, 3)).join("|")],
  M: ["monthName", MONTHS.join("|")],
  d: ["day", "\\d{1,2}"],
  e: ["day", "\\d{1,2}"],
  j: ["dayOfYear", "\\d{1,3}"],
  H: ["hour", "\\d{1,2}"],
  k: ["hour", "\\d{1,2}"],
  h: ["hour12", "\\d{1,2}"],
  I: ["hour12", "\\d{1,2}"],
  l: ["hour12", "\\d{1,2}"],
  i: ["minute", "\\d{1,2}"],
  s: ["second", "\\d{1,2}"],
  S: ["second", "\\d{1,2}"],
  f: ["fraction", "\\d{1,9}"],
  p: ["ampm", "am|pm"],
  a: [
    "ignored",
    WEEKDAYS.split("|")
      .map((day) => day.slice(0, 3))
      .join("|"),
  ],
  W: ["ignored", WEEKDAYS],
  T: "%H:%i:%s",
  r: "%h:%i:%s %p",
};

/** Specifiers Trino refuses in date_parse. */
const UNSUPPORTED = new Set(["D", "U", "u", "V", "v", "w", "X", "x"]);

/** A Trino date format compiled for parsing. */
export interface CompiledFormat {
  regex: RegExp;
  fields: Field[];
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compiles a Trino (MySQL-style) format into an anchored, case-insensitive regular expression. */
export function compileDateFormat(format: string): CompiledFormat {
  const fields: Field[] = [];
  const build = (text: string): string => {
    let pattern = "";
    for (let index = 0; index < text.length; index++) {
      const char = text[index] as string;
      if (char !== "%") {
        pattern += escapeRegex(char);
        continue;
      }
      const specifier = text[++index];
      if (specifier === undefined) break;
      if (UNSUPPORTED.has(specifier)) throw new Error(`%${specifier} not supported in date format string`);
      const meaning = SPECIFIERS[specifier];
      if (meaning === undefined) pattern += escapeRegex(specifier);
      else if (typeof meaning === "string") pattern += build(meaning);
      else {
        fields.push(meaning[0]);
        pattern += `(${meaning[1]})`;
      }
    }
    return pattern;
  };
  const source = build(format);
  return { regex: new RegExp(`^${source}$`, "i"), fields };
}

/** Parses `text` with a Trino date format into epoch milliseconds. @throws Error when it does not match */
export function parseWithDateFormat(text: string, compiled: CompiledFormat): number {
  const match = compiled.regex.exec(text);
  if (!match) throw new Error(`Invalid format: "${text}"`);
  let year = 1970;
  let month = 1;
  let day = 1;
  let dayOfYear: number | undefined;
  let hour = 0;
  let hour12: number | undefined;
  let pm: boolean | undefined;
  let minute = 0;
  let second = 0;
  let millis = 0;
  compiled.fields.forEach((field, index) => {
    const value = match[index + 1] as string;
    switch (field) {
      case "year":
        year = Number(value);
        break;
      case "year2": {
        const twoDigits = Number(value);
        year = twoDigits < 70 ? 2000 + twoDigits : 1900 + twoDigits;
        break;
      }
      case "month":
        month = Number(value);
        break;
      case "monthName":
        month = MONTHS.findIndex((name) => name.startsWith(value.toLowerCase())) + 1;
        break;
      case "day":
        day = Number(value);
        break;
      case "dayOfYear":
        dayOfYear = Number(value);
        break;
      case "hour":
        hour = Number(value);
        break;
      case "hour12":
        hour12 = Number(value);
        break;
      case "minute":
        minute = Number(value);
        break;
      case "second":
        second = Number(value);
        break;
      case "fraction":
        millis = Number(value.padEnd(3, "0").slice(0, 3));
        break;
      case "ampm":
        pm = value.toLowerCase() === "pm";
        break;
      case "ignored":
        break;
    }
  });
  if (hour12 !== undefined) {
    if (hour12 < 1 || hour12 > 12) throw new Error(`Invalid format: "${text}": hour ${hour12} is not 1-12`);
    hour = (hour12 % 12) + (pm ? 12 : 0);
  } else if (pm !== undefined && hour < 12 && pm) {
    hour += 12;
  }
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) throw new Error(`Invalid format: "${text}": a field is out of range`);
  let epoch: number;
  if (dayOfYear !== undefined) {
    epoch = Date.UTC(year, 0, dayOfYear, hour, minute, second, millis);
    if (dayOfYear < 1 || new Date(epoch).getUTCFullYear() !== year) throw new Error(`Invalid format: "${text}": day of year ${dayOfYear} is out of range`);
  } else {
    epoch = Date.UTC(year, month - 1, day, hour, minute, second, millis);
    if (day < 1 || new Date(epoch).getUTCDate() !== day) throw new Error(`Invalid format: "${text}": day ${day} is out of range for the month`);
  }
  if (year < 100) epoch = new Date(epoch).setUTCFullYear(year);
  return epoch;
}

const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = MONTHS.map((month) => month[0]?.toUpperCase() + month.slice(1));

const pad = (value: number, width = 2): string => String(value).padStart(width, "0");

/** ISO 8601 week and week-year of a UTC date. */
function isoWeek(date: Date): { week: number; year: number } {
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 3 - ((date.getUTCDay() + 6) % 7)));
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 / 7);
  return { week, year };
}

function ordinalSuffix(day: number): string {
  if (day >= 11 && day <= 13) return "th";
  return ["th", "st", "nd", "rd"][day % 10] ?? "th";
}

/** Renders one specifier of a Trino date format for a UTC date. */
const RENDERERS: Readonly<Record<string, (date: Date) => string>> = {
  a: (date) => (WEEKDAY_NAMES[date.getUTCDay()] as string).slice(0, 3),
  b: (date) => (MONTH_NAMES[date.getUTCMonth()] as string).slice(0, 3),
  c: (date) => String(date.getUTCMonth() + 1),
  D: (date) => `${date.getUTCDate()}${ordinalSuffix(date.getUTCDate())}`,
  d: (date) => pad(date.getUTCDate()),
  e: (date) => String(date.getUTCDate()),
  f: (date) => `${pad(date.getUTCMilliseconds(), 3)}000`,
  H: (date) => pad(date.getUTCHours()),
  h: (date) => pad(((date.getUTCHours() + 11) % 12) + 1),
  I: (date) => pad(((date.getUTCHours() + 11) % 12) + 1),
  i: (date) => pad(date.getUTCMinutes()),
  j: (date) => pad(Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3),
  k: (date) => String(date.getUTCHours()),
  l: (date) => String(((date.getUTCHours() + 11) % 12) + 1),
  M: (date) => MONTH_NAMES[date.getUTCMonth()] as string,
  m: (date) => pad(date.getUTCMonth() + 1),
  p: (date) => (date.getUTCHours() < 12 ? "AM" : "PM"),
  r: (date) =>
    `${pad(((date.getUTCHours() + 11) % 12) + 1)}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${date.getUTCHours() < 12 ? "AM" : "PM"}`,
  S: (date) => pad(date.getUTCSeconds()),
  s: (date) => pad(date.getUTCSeconds()),
  T: (date) => `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`,
  v: (date) => pad(isoWeek(date).week),
  W: (date) => WEEKDAY_NAMES[date.getUTCDay()] as string,
  x: (date) => String(isoWeek(date).year),
  Y: (date) => pad(date.getUTCFullYear(), 4),
  y: (date) => pad(date.getUTCFullYear() % 100),
};

/** Specifiers Trino refuses in date_format. */
const UNSUPPORTED_OUTPUT = new Set(["U", "u", "V", "w", "X"]);

/** A compiled Trino date format: renders a UTC date. @throws Error for a specifier Trino refuses */
export function compileDateFormatter(format: string): (date: Date) => string {
  const parts: (string | ((date: Date) => string))[] = [];
  let literal = "";
  for (let index = 0; index < format.length; index++) {
    const char = format[index] as string;
    if (char !== "%") {
      literal += char;
      continue;
    }
    const specifier = format[++index];
    if (specifier === undefined) break;
    if (UNSUPPORTED_OUTPUT.has(specifier)) throw new Error(`%${specifier} not supported in date format string`);
    const render = RENDERERS[specifier];
    if (render === undefined) {
      literal += specifier;
      continue;
    }
    if (literal) parts.push(literal);
    literal = "";
    parts.push(render);
  }
  if (literal) parts.push(literal);
  return (date) => {
    let text = "";
    for (const part of parts) text += typeof part === "string" ? part : part(date);
    return text;
  };
}

/** A small memo of compiled formats (a query uses one or two). */
function memo<T>(compile: (format: string) => T): (format: string) => T {
  const cache = new Map<string, T>();
  return (format) => {
    let compiled = cache.get(format);
    if (compiled === undefined) {
      compiled = compile(format);
      if (cache.size >= 256) cache.clear();
      cache.set(format, compiled);
    }
    return compiled;
  };
}

/** Name of the TypeScript date_format; the `date_format` macro casts its argument to TIMESTAMP and calls it. */
export const DATE_FORMAT_FUNCTION = "athena_date_format_utc";

/** Registers the TypeScript-implemented Trino functions (`date_parse`, `date_format`'s body) on a connection. */
export function registerTrinoFunctions(connection: DuckDBConnection): void {
  const parseFormat = memo(compileDateFormat);
  const outputFormat = memo(compileDateFormatter);
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: "date_parse",
      returnType: TIMESTAMP,
      parameterTypes: [VARCHAR, VARCHAR],
      mainFunction: (info, input, output) => {
        const texts = input.getColumnVector(0);
        const patterns = input.getColumnVector(1);
        try {
          for (let row = 0; row < input.rowCount; row++) {
            const text = texts.getItem(row);
            const format = patterns.getItem(row);
            if (typeof text !== "string" || typeof format !== "string") {
              output.setItem(row, null);
              continue;
            }
            output.setItem(row, new DuckDBTimestampValue(BigInt(parseWithDateFormat(text, parseFormat(format))) * 1000n));
          }
          output.flush();
        } catch (error) {
          info.setError(`date_parse: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
    }),
  );
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: DATE_FORMAT_FUNCTION,
      returnType: VARCHAR,
      parameterTypes: [TIMESTAMP, VARCHAR],
      mainFunction: (info, input, output) => {
        const times = input.getColumnVector(0);
        const patterns = input.getColumnVector(1);
        const date = new Date(0);
        try {
          for (let row = 0; row < input.rowCount; row++) {
            const time = times.getItem(row);
            const format = patterns.getItem(row);
            if (!(time instanceof DuckDBTimestampValue) || typeof format !== "string") {
              output.setItem(row, null);
              continue;
            }
            const micros = time.micros;
            date.setTime(Number(micros / 1000n - (micros % 1000n < 0n ? 1n : 0n)));
            output.setItem(row, outputFormat(format)(date));
          }
          output.flush();
        } catch (error) {
          info.setError(`date_format: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
    }),
  );
}

/** Signatures of the functions `registerTrinoFunctions` adds (for documentation and tests). */
export const TRINO_FUNCTIONS: readonly { name: string; signature: string }[] = [
  { name: "date_parse", signature: "date_parse(string, format): Trino's MySQL-style format, timestamp(3)" },
];
