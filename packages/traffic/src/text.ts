/**
 * Filler text for prompt and response bodies. A corpus of business-English sentences is built
 * once from a fixed seed; a body takes slices of it at random word boundaries. Slicing one string
 * is what keeps generation above 100k records/s with 2 KB of text per record.
 *
 * The corpus holds only letters, digits, spaces and `.,:`, so a slice's JSON encoding is as long
 * as the slice: body sizes can be planned exactly before the text is cut.
 */
import { Prng } from "./prng";

const WORDS = (
  "account order invoice customer ticket refund shipment delivery contract renewal policy claim " +
  "report summary quarter revenue forecast budget pipeline lead prospect campaign launch release " +
  "deployment incident outage latency error request service cluster database query index cache " +
  "migration schedule meeting agenda action item owner deadline review approval draft proposal " +
  "pricing discount tier plan subscription usage limit quota region team manager engineer analyst " +
  "support agent escalation priority severity status update change risk issue resolution root cause " +
  "document section clause term notice payment balance transfer vendor supplier inventory warehouse " +
  "product feature roadmap feedback survey score trend metric dashboard chart table column record " +
  "the a an of to in for on with by from at as and or but not is was will should could must may " +
  "this that these those our your their its we they it new current previous next final monthly " +
  "weekly daily annual total average expected actual open closed pending urgent minor major " +
  "please confirm check update send share attach include explain describe compare estimate list " +
  "improve reduce increase resolve investigate verify track prepare complete schedule assign"
).split(" ");

const CORPUS_CHARS = 96 * 1024;
/** Longest slice taken in one piece; longer texts are joined from several slices. */
const MAX_SLICE = 24 * 1024;

function buildCorpus(): { text: string; starts: Int32Array; sliceable: number } {
  const rng = new Prng("bedrock-spend corpus v1");
  const parts: string[] = [];
  let length = 0;
  while (length < CORPUS_CHARS) {
    const words = rng.range(5, 16);
    let sentence = "";
    for (let i = 0; i < words; i++) {
      let word = rng.pick(WORDS);
      if (i === 0) word = word.charAt(0).toUpperCase() + word.slice(1);
      else if (rng.chance(0.04)) word = `${word},`;
      else if (rng.chance(0.02)) word = String(rng.range(2, 9999));
      sentence += i === 0 ? word : ` ${word}`;
    }
    sentence += rng.chance(0.08) ? ": " : ". ";
    parts.push(sentence);
    length += sentence.length;
  }
  const text = parts.join("");
  const starts: number[] = [0];
  for (let i = 1; i < text.length; i++) if (text.charCodeAt(i - 1) === 0x20) starts.push(i);
  let sliceable = 0;
  while (sliceable < starts.length && (starts[sliceable] as number) + MAX_SLICE < text.length) sliceable++;
  return { text, starts: Int32Array.from(starts), sliceable };
}

let corpus: ReturnType<typeof buildCorpus> | undefined;

/**
 * Text of exactly `length` characters (0 gives ""), starting at a word boundary. It may end
 * mid-word, as logged bodies cut by a token limit do.
 */
export function fillerText(rng: Prng, length: number): string {
  if (length <= 0) return "";
  corpus ??= buildCorpus();
  const { text, starts, sliceable } = corpus;
  let out = "";
  while (out.length < length) {
    if (out.length > 0) out += " ";
    const start = starts[rng.int(sliceable)] as number;
    out += text.slice(start, start + Math.min(length - out.length, MAX_SLICE));
  }
  // Trailing whitespace would look like a generator artefact; a period keeps the length.
  return out.endsWith(" ") ? `${out.slice(0, -1)}.` : out;
}
