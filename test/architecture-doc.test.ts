/**
 * docs/architecture.md stays true to the code: it names every package, every numbered invariant a
 * comment or test cites, and only files that exist; and no file points to a design document the
 * repository does not hold.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../", import.meta.url));
const doc = readFileSync(join(root, "docs/architecture.md"), "utf8");
const tracked = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
  .split("\n")
  .filter((file) => file !== "" && existsSync(join(root, file)) && /\.(ts|mjs|js|md|json|sh|yaml)$/.test(file) && !file.startsWith("bench-results/"));

/** A path as the document writes it: from the root, or `<package>/...` for `packages/<package>/src/...` or `packages/<package>/...`. */
function resolves(path: string): boolean {
  const bare = path.replace(/\/$/, "");
  const [first, ...rest] = bare.split("/");
  const candidates = [bare, `packages/${bare}`, `packages/${first}/src/${rest.join("/")}`];
  return candidates.some((candidate) => existsSync(join(root, candidate)));
}

describe("docs/architecture.md", () => {
  it("names every package under packages/", () => {
    const packages = readdirSync(join(root, "packages"), { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(packages.length).toBeGreaterThan(10);
    for (const entry of packages) expect(doc, entry.name).toContain(`packages/${entry.name}`);
  });

  it("lists every numbered invariant the code cites", () => {
    const cited = new Set<number>();
    for (const file of tracked) {
      if (file === "docs/architecture.md") continue;
      for (const match of readFileSync(join(root, file), "utf8").matchAll(/invariants? (\d+)/gi)) cited.add(Number(match[1]));
    }
    expect(cited.size).toBeGreaterThan(3);
    for (const number of cited) expect(doc, `invariant ${number}`).toMatch(new RegExp(`^\\|\\s*${number}\\s*\\|\\s*\\*\\*`, "m"));
  });

  it("points only at files and folders that exist", () => {
    const paths = [...doc.matchAll(/`([a-z][\w.-]*(?:\/[\w.-]+)+\/?)`/g)]
      .map((match) => match[1] as string)
      .filter((path) => /\.(ts|js|json|md)$|\/$/.test(path));
    expect(paths.length).toBeGreaterThan(40);
    const missing = paths.filter((path) => !path.includes("<") && !resolves(path));
    expect(missing).toEqual([]);
  });

  it("is the design document: no file refers to one the repository does not hold", () => {
    const name = ["DESIGN", "md"].join(".");
    expect(tracked.filter((file) => readFileSync(join(root, file), "utf8").includes(name))).toEqual([]);
  });
});
