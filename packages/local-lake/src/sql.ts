/**
 * Small SQL text helpers: literals, and the leading keyword of a statement (for the read-only
 * check of `LocalAthena`).
 */

/** A SQL string literal: single quotes doubled. DuckDB and Trino read backslashes literally. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A double-quoted SQL identifier. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Index of the first character of `sql` at or after `from` that is not whitespace, a comment
 * (`-- ...` or `/* ... *\/`) or, when `parentheses` is set, an opening parenthesis.
 */
function skipTrivia(sql: string, from: number, parentheses: boolean): number {
  let index = from;
  while (index < sql.length) {
    const char = sql[index] as string;
    if (/\s/.test(char) || (parentheses && char === "(")) {
      index++;
    } else if (sql.startsWith("--", index)) {
      const end = sql.indexOf("\n", index);
      index = end === -1 ? sql.length : end + 1;
    } else if (sql.startsWith("/*", index)) {
      const end = sql.indexOf("*/", index + 2);
      index = end === -1 ? sql.length : end + 2;
    } else {
      break;
    }
  }
  return index;
}

/**
 * The first keyword of a statement, upper case (comments, whitespace and opening parentheses
 * skipped), with the text after it; `keyword` is empty when the statement does not start with a word.
 */
export function leadingKeyword(sql: string): { keyword: string; rest: string } {
  const start = skipTrivia(sql, 0, true);
  const match = /^[A-Za-z_]+/.exec(sql.slice(start));
  if (!match) return { keyword: "", rest: sql.slice(start) };
  return { keyword: match[0].toUpperCase(), rest: sql.slice(start + match[0].length) };
}

/** Whether `sql` holds nothing but whitespace, comments and semicolons. */
export function isBlank(sql: string): boolean {
  let index = 0;
  for (;;) {
    index = skipTrivia(sql, index, false);
    if (sql[index] === ";") index++;
    else return index >= sql.length;
  }
}
