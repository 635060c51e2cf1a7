/**
 * Vitest setup file, run with every test file: whatever the file spawned through
 * `test/helpers/spawned.ts` and did not kill yet dies with its process tree when the file ends.
 */
import { afterAll } from "vitest";
import { killAllSpawned } from "../helpers/spawned";

afterAll(() => {
  killAllSpawned();
});
