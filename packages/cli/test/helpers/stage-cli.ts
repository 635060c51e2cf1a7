/**
 * For the tests of the commands against a deployed stage: the CLI run in this process (as main
 * runs it, so that the class mocks of aws-sdk-client-mock answer the clients the command builds),
 * and a named profile in AWS config files of its own, the only credentials the SDK can find.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vi } from "vitest";
import { run } from "../../src/main";

/** The profile's keys (AWS's documentation example) and Region. */
export const PROFILE = { name: "ops", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "eu-west-1" };

/**
 * Writes the `ops` profile to a credentials and a config file and points the SDK at them, with no
 * credentials or Region in the environment and AWS_PROFILE naming a profile that does not exist
 * (restored, with the rest, by `vi.unstubAllEnvs()`).
 */
export function onlyTheOpsProfile(): void {
  const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-aws-"));
  writeFileSync(
    join(dir, "credentials"),
    `[${PROFILE.name}]\naws_access_key_id = ${PROFILE.accessKeyId}\naws_secret_access_key = ${PROFILE.secretAccessKey}\n`,
  );
  writeFileSync(join(dir, "config"), `[profile ${PROFILE.name}]\nregion = ${PROFILE.region}\n`);
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"]) vi.stubEnv(name, undefined);
  vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", join(dir, "credentials"));
  vi.stubEnv("AWS_CONFIG_FILE", join(dir, "config"));
  vi.stubEnv("AWS_PROFILE", "default-that-does-not-exist");
}

/** What a client built by the command would sign with: its credentials' access key and its Region. */
export async function signingOf(client: unknown): Promise<{ accessKeyId: string; region: string }> {
  const { config } = client as { config: { credentials: () => Promise<{ accessKeyId: string }>; region: () => Promise<string> } };
  return { accessKeyId: (await config.credentials()).accessKeyId, region: await config.region() };
}

/** Runs `bedrock-spend <args>` in this process, as main does; returns its exit code and what it wrote. */
export async function runStageCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await run(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
