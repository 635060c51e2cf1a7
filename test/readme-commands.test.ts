/**
 * Every `pnpm bedrock-spend` and `pnpm start` command the README shows is one the CLI accepts: run
 * in process through the CLI's own entry (`run`), each reaches its command with every option known
 * and every value given (the commands that need AWS or files the reader supplies stop there). The
 * Local mode block is run for real by local-commands.test.ts's README test.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shellLines, shellWords } from "./helpers/shell-words";

/** What the parser answers once it has accepted a command's arguments: the command stops there. */
const PARSED = "README-COMMAND-PARSED";

vi.mock("../packages/cli/src/args", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../packages/cli/src/args")>();
  const { CommandFailure } = await import("../packages/cli/src/errors");
  return {
    ...actual,
    parseCommandArgs: (...args: Parameters<typeof actual.parseCommandArgs>) => {
      const parsed = actual.parseCommandArgs(...args);
      // --help prints the command's help for real.
      if (parsed.values.help) return parsed;
      throw new CommandFailure(PARSED);
    },
  };
});

const root = fileURLToPath(new URL("../", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");

/** The README's CLI commands: `pnpm bedrock-spend ARGS` and `pnpm start ARGS` (= `bedrock-spend start ARGS`), as argv. */
const COMMANDS = shellLines(readme)
  .map((line) => shellWords(line))
  .filter((words) => words[0] === "pnpm" && (words[1] === "bedrock-spend" || words[1] === "start"))
  .map((words) => ({ line: words.join(" "), argv: words[1] === "start" ? words.slice(1) : words.slice(2) }));

/** The actions of the commands that take one, which each checks after parsing its options. */
const ACTIONS: Readonly<Record<string, readonly string[]>> = {
  budgets: ["set", "list", "rm"],
  prices: ["list", "check", "suggest"],
  ranks: ["status", "sync"],
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("The README's CLI commands", () => {
  it("splits shell lines as the shell does", () => {
    expect(shellWords(`pnpm bedrock-spend query "SELECT 'a' AS x" --json   # a comment`)).toStrictEqual([
      "pnpm",
      "bedrock-spend",
      "query",
      "SELECT 'a' AS x",
      "--json",
    ]);
    expect(shellWords("pnpm bedrock-spend price samples/logs --strict > priced.jsonl")).toStrictEqual([
      "pnpm",
      "bedrock-spend",
      "price",
      "samples/logs",
      "--strict",
    ]);
  });

  it("are all accepted by the CLI: known commands, known options, every value given", { timeout: 120_000 }, async () => {
    // Prepare
    const { run } = await import("../packages/cli/src/main");
    expect(COMMANDS.length).toBeGreaterThan(35);
    const refused: string[] = [];

    // Act
    for (const { line, argv } of COMMANDS) {
      let stderr = "";
      vi.spyOn(process.stdout, "write").mockImplementation(() => true);
      vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
        stderr += String(chunk);
        return true;
      });
      const code = await run(argv);
      vi.restoreAllMocks();
      const accepted = (code === 1 && stderr.includes(PARSED)) || (code === 0 && (argv.includes("--help") || argv.includes("--version")));
      if (!accepted) refused.push(`${line}\n  exit ${code}: ${stderr.split("\n")[0]}`);
      const [command, action] = argv;
      const actions = ACTIONS[command as string];
      if (actions && !actions.includes(action as string)) refused.push(`${line}\n  ${command} has no action "${action}"`);
    }

    // Assess
    expect(refused).toStrictEqual([]);
  });

  it("would name a command the CLI refuses", async () => {
    // Prepare: the check itself, on a line the CLI does not accept.
    const { run } = await import("../packages/cli/src/main");
    let stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });

    // Act
    const code = await run(shellWords("pnpm bedrock-spend report --month 2026-11 --toop 10").slice(2));

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option --toop (did you mean --top?)");
  });
});
