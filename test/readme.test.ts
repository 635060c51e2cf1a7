/**
 * The README's promises about itself: it opens with exactly the two fresh-machine commands, and CI
 * runs the second one verbatim.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");
const commands = [...readme.matchAll(/```bash\n([^\n]+)\n```/g)].map((match) => match[1]);

describe("README", () => {
  it("opens with a setup-and-run command and a setup-and-test command, before any other section", () => {
    const beforeFirstSection = readme.slice(0, readme.indexOf("\n## "));
    const opening = [...beforeFirstSection.matchAll(/```bash\n([^\n]+)\n```/g)].map((match) => match[1]);
    expect(opening).toHaveLength(2);
    expect(opening[0]).toMatch(/^bash scripts\/setup\.sh && pnpm /);
    expect(opening[1]).toBe("bash scripts/setup.sh && pnpm test");
    expect(commands.slice(0, 2)).toEqual(opening);
  });

  it("is what .ci/run runs", () => {
    const ci = readFileSync(`${root}.ci/run`, "utf8");
    expect(ci.split("\n")).toContain(commands[1]);
  });
});
