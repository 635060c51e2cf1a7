/**
 * sst.config.ts as `sst deploy` loads it. SST bundles it with esbuild, every dependency of the
 * root package.json left external, and imports the bundle in plain Node (sst/stacks/build.js,
 * `load`). So the stacks import workspace code by path, and only files that import no workspace
 * package by name (stacks/README.md): the offline synthesis of the other infrastructure tests
 * runs through vitest, which loads TypeScript anywhere and would not notice a file that breaks this.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const LOAD = `
import { load } from "sst/stacks/build.js";
const [metafile, config] = await load(process.cwd() + "/sst.config.ts");
process.stdout.write("\\n" + JSON.stringify({ stacks: typeof config.stacks, inputs: Object.keys(metafile.inputs) }) + "\\n");
`;

describe("sst.config.ts", () => {
  it("loads the way SST loads it, bundling the contracts and the table's attribute names from the workspace", () => {
    // Act
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", LOAD], { encoding: "utf8", timeout: 120_000 });

    // Assess
    expect(result.status, result.stderr).toBe(0);
    const loaded = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { stacks: string; inputs: string[] };
    expect(loaded.stacks).toBe("function");
    expect(loaded.inputs).toEqual(expect.arrayContaining(["functions/src/lib/contracts.ts", "packages/store/src/layout.ts", "packages/store/src/keys.ts"]));
  }, 150_000);
});
