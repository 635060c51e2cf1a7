/**
 * A reader for the plain YAML subset docs/openapi.yaml is written in (the repository ships no YAML
 * parser): block mappings and sequences indented with spaces, `- key: value` items, plain,
 * single- and double-quoted scalars, flow sequences of scalars (`[50, 80]`, `[]`), `{}`, literal
 * block scalars (`|`) and `#` comments. Anything else (anchors, tags, flow mappings, folded
 * scalars, tabs) is refused with its line number, so the document cannot drift out of the subset
 * unnoticed.
 */

/** A YAML value of the subset. */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  number: number;
  indent: number;
  text: string;
}

/** Parses the subset; throws an Error naming the line on anything outside it. */
export function parseYamlSubset(source: string): YamlValue {
  const raw = source.split(/\r?\n/);
  const reader = new Reader(raw);
  const value = reader.node(0);
  const rest = reader.peek();
  if (rest) throw new Error(`line ${rest.number}: unexpected indentation or content`);
  return value;
}

class Reader {
  private index = 0;
  private readonly lines: (Line | undefined)[];

  constructor(private readonly raw: string[]) {
    this.lines = raw.map((text, index) => {
      if (/^\s*(#.*)?$/.test(text)) return undefined;
      if (/^ *\t/.test(text)) throw new Error(`line ${index + 1}: tabs are not allowed in indentation`);
      const indent = text.length - text.trimStart().length;
      return { number: index + 1, indent, text: text.trim() };
    });
  }

  peek(): Line | undefined {
    while (this.index < this.lines.length && this.lines[this.index] === undefined) this.index++;
    return this.lines[this.index];
  }

  /** A block node whose first line is at `indent` (or deeper, for the document root). */
  node(indent: number): YamlValue {
    const line = this.peek();
    if (!line || line.indent < indent) throw new Error(`line ${line?.number ?? this.raw.length}: a value is missing`);
    return line.text === "-" || line.text.startsWith("- ") ? this.sequence(line.indent) : this.mapping(line.indent);
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.peek(); line && line.indent === indent && (line.text === "-" || line.text.startsWith("- ")); line = this.peek()) {
      const content = line.text.slice(1).trimStart();
      if (content === "") {
        this.index++;
        items.push(this.node(indent + 1));
      } else if (splitKey(content) !== undefined) {
        // `- key: value` opens a mapping whose keys sit two columns in.
        this.lines[this.index] = { number: line.number, indent: indent + 2, text: content };
        items.push(this.mapping(indent + 2));
      } else {
        this.index++;
        items.push(scalar(content, line.number));
      }
    }
    return items;
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {};
    for (let line = this.peek(); line && line.indent === indent && !line.text.startsWith("- ") && line.text !== "-"; line = this.peek()) {
      const entry = splitKey(line.text);
      if (!entry) throw new Error(`line ${line.number}: expected "key: value"`);
      const [key, rest] = entry;
      if (Object.hasOwn(map, key)) throw new Error(`line ${line.number}: duplicate key ${key}`);
      this.index++;
      if (rest === "|") map[key] = this.literalBlock(indent, line.number);
      else if (rest !== "") map[key] = scalar(rest, line.number);
      else {
        const next = this.peek();
        // A sequence may sit at its key's own indentation.
        if (next && next.indent === indent && (next.text === "-" || next.text.startsWith("- "))) map[key] = this.sequence(indent);
        else map[key] = this.node(indent + 1);
      }
    }
    return map;
  }

  /** A `|` block: the following lines indented deeper than the key, common indentation removed, one final newline. */
  private literalBlock(keyIndent: number, keyLine: number): string {
    const body: string[] = [];
    let end = keyLine;
    while (end < this.raw.length) {
      const text = this.raw[end] as string;
      if (text.trim() !== "" && text.length - text.trimStart().length <= keyIndent) break;
      body.push(text);
      end++;
    }
    while (body.length > 0 && (body[body.length - 1] as string).trim() === "") body.pop();
    if (body.length === 0) throw new Error(`line ${keyLine}: empty | block`);
    const indent = Math.min(...body.filter((text) => text.trim() !== "").map((text) => text.length - text.trimStart().length));
    for (let index = keyLine; index < keyLine + body.length; index++) this.lines[index] = undefined;
    return `${body.map((text) => text.slice(indent)).join("\n")}\n`;
  }
}

/** Splits `key: rest` (rest may be empty); undefined when the text is not a mapping entry. */
function splitKey(text: string): [string, string] | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const close = text.startsWith('"') ? /^"(?:[^"\\]|\\.)*"/.exec(text) : /^'(?:[^']|'')*'/.exec(text);
    if (!close) return undefined;
    const after = text.slice(close[0].length);
    if (after !== ":" && !after.startsWith(": ")) return undefined;
    return [scalar(close[0], 0) as string, stripComment(after.slice(1).trim())];
  }
  let at = text.indexOf(": ");
  if (at === -1 && text.endsWith(":")) at = text.length - 1;
  if (at <= 0 || /^[#[{&*!|>%@`]/.test(text)) return undefined;
  return [text.slice(0, at).trimEnd(), stripComment(text.slice(at + 1).trim())];
}

function stripComment(text: string): string {
  if (text.startsWith('"') || text.startsWith("'")) return text;
  const at = text.search(/(^| )#/);
  return at === -1 ? text : text.slice(0, at).trimEnd();
}

function scalar(text: string, line: number): YamlValue {
  const value = stripComment(text);
  if (value.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(value)) throw new Error(`line ${line}: unterminated or trailing text after a double-quoted string`);
    return JSON.parse(value) as string;
  }
  if (value.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(value)) throw new Error(`line ${line}: unterminated single-quoted string`);
    return value.slice(1, -1).replace(/''/g, "'");
  }
  if (value.startsWith("[")) {
    if (!value.endsWith("]")) throw new Error(`line ${line}: flow sequences must fit on one line`);
    const inner = value.slice(1, -1).trim();
    if (inner === "") return [];
    return splitFlow(inner, line).map((item) => scalar(item, line));
  }
  if (value === "{}") return {};
  if (/^[&*!{|>%@`]/.test(value)) throw new Error(`line ${line}: ${value[0]} is outside the YAML subset`);
  if (value === "null" || value === "~") return null;
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(value)) return Number(value);
  return value;
}

function splitFlow(inner: string, line: number): string[] {
  const items: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (const char of inner) {
    if (quote) {
      current += char;
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
      current += char;
    } else if (char === ",") {
      items.push(current.trim());
      current = "";
    } else if (char === "[" || char === "{") {
      throw new Error(`line ${line}: nested flow collections are outside the YAML subset`);
    } else current += char;
  }
  items.push(current.trim());
  return items;
}
