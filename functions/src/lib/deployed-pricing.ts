/**
 * The deployment's pricing configuration, bundled into each function at `sst deploy`: the price
 * file (laid over the shipped catalog, or the whole catalog), the application-inference-profile
 * map and the metadata aliases, as validated at synth (stacks/config.ts). The bundler replaces
 * this module (stacks/bundling.ts `deployedPricing`); in the source it is null, and the handlers
 * read the same settings from their environment instead (tests, local mode).
 *
 * Without imports: the CDK app reads its type and every bundle carries its value.
 */

/** The bundled settings, each as the JSON of its file. */
export interface DeployedPricing {
  /** A price file laid over the shipped catalog. */
  overlay?: unknown;
  /** A price file used as the whole catalog (instead of `overlay`). */
  catalog?: unknown;
  /** The application-inference-profile map. */
  profiles?: unknown;
  /** The metadata alias map. */
  aliases?: unknown;
  /** The tag keys of application inference profiles per attribution dimension. */
  tagKeys?: unknown;
}

/** Null in the source; the deployment's settings in a bundle. */
export const DEPLOYED_PRICING: DeployedPricing | null = null;
