/**
 * The shell lines of a Markdown document's ```bash blocks, split into words as the shell does
 * (enough of it for a README's commands): for the tests that run what the README shows.
 */

/** The README's shell lines in ```bash blocks, continuation lines joined. */
export function shellLines(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```bash\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  return blocks.flatMap((block) => block.replace(/\\\n\s*/g, " ").split("\n"));
}

/** Splits a shell line into words: single and double quotes, a comment after whitespace, a `> file` redirection dropped. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line[index] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= "";
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "#" && word === undefined) {
      break;
    } else word = (word ?? "") + char;
  }
  if (quote) throw new Error(`unclosed ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  const redirect = words.indexOf(">");
  return redirect === -1 ? words : words.slice(0, redirect);
}
