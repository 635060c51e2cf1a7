/**
 * Syntheses reusing bundles (stacks/synth.ts, `BEDROCK_SPEND_SYNTH_BUNDLE_CACHE`): a bundle built
 * once is copied by a later synthesis with the same build inputs, to the same templates, and is
 * never reused for a function whose embedded pricing differs.
 */
import { cpSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUNDLE_CACHE_VARIABLE } from "../../stacks/synth";
import { type SynthesizedApp, synthesize } from "./synth";

/** Every Lambda function's code location (its S3 key is the hash of its bundle), by stack and logical id. */
function codeKeys(synthesized: SynthesizedApp): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const { name, template } of synthesized.stacks)
    for (const [id, resource] of Object.entries(template.findResources("AWS::Lambda::Function")))
      keys[`${name}/${id}`] = JSON.stringify((resource as { Properties: { Code: unknown } }).Properties.Code);
  return keys;
}

/** The functions whose code differs between two syntheses. */
function changed(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((key) => after[key] !== before[key]);
}

const outer = process.env[BUNDLE_CACHE_VARIABLE];
afterEach(() => {
  if (outer === undefined) delete process.env[BUNDLE_CACHE_VARIABLE];
  else process.env[BUNDLE_CACHE_VARIABLE] = outer;
});

describe("Synthesis reusing bundles", () => {
  it("copies the bundles an earlier synthesis stored, builds again those whose pricing differs", { timeout: 600_000 }, async () => {
    // Prepare: the run's own directory when there is one (this warms it for the other files).
    const cache = outer ?? mkdtempSync(join(tmpdir(), "bedrock-spend-bundles-"));
    process.env[BUNDLE_CACHE_VARIABLE] = cache;
    const first = codeKeys(await synthesize());
    const stored = readdirSync(cache).sort();

    // Act
    const second = codeKeys(await synthesize());
    const afterSecond = readdirSync(cache).sort();
    // On a copy of the directory, a file slipped into every stored bundle: a synthesis that copies
    // shows it in the code of each function SST builds.
    const tampered = mkdtempSync(join(tmpdir(), "bedrock-spend-bundles-"));
    cpSync(cache, tampered, { recursive: true });
    for (const entry of stored) writeFileSync(join(tampered, entry, "out", "marker.txt"), "copied\n");
    process.env[BUNDLE_CACHE_VARIABLE] = tampered;
    const marked = codeKeys(await synthesize());
    const aliased = codeKeys(await synthesize({ metadataAliases: JSON.stringify({ tenantId: ["tenant_id"] }) }));

    // Assess
    expect(Object.keys(first).length).toBeGreaterThan(10);
    expect(second).toStrictEqual(first);
    expect(afterSecond).toStrictEqual(stored);
    const built = changed(first, marked);
    expect(built.length).toBeGreaterThan(5);
    // CDK's own custom resource handlers are assets SST does not build: never copied.
    expect(built.filter((key) => key.includes("CustomResource"))).toStrictEqual([]);
    // Every bundle embeds the deployment's pricing configuration: none is reused for another one.
    expect(readdirSync(tampered).length).toBe(stored.length + built.length);
    expect(changed(first, aliased).every((key) => built.includes(key))).toBe(true);
  });
});
