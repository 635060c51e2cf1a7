/**
 * Typed errors of the core. Each sets `name`, keeps `cause`, and carries the context a caller
 * needs to say what was wrong and where, in the style of Powertools' error hierarchies.
 */

/** Base class of every error bedrock-spend throws on purpose. */
export class BedrockSpendError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BedrockSpendError";
  }
}

/** One problem found in a price catalog, located by entry. */
export interface CatalogIssue {
  /** Where the catalog came from (a file path or `defaults`). */
  origin: string;
  /** JSON path of the offending value, e.g. `models[3].input`. */
  path: string;
  /** Human label of the entry, e.g. `anthropic.claude-3-haiku-20240307-v1:0 (profile *, region *, from 2024-03-07)`. */
  entry?: string;
  message: string;
}

/** A price catalog that cannot be used. Nothing is priced from a catalog that fails validation. */
export class CatalogValidationError extends BedrockSpendError {
  readonly issues: readonly CatalogIssue[];

  constructor(issues: readonly CatalogIssue[], options?: ErrorOptions) {
    const lines = issues.slice(0, 20).map(formatCatalogIssue);
    const more = issues.length > 20 ? `\n  ... and ${issues.length - 20} more` : "";
    super(`invalid price catalog (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n  ${lines.join("\n  ")}${more}`, options);
    this.name = "CatalogValidationError";
    this.issues = issues;
  }
}

/** Formats one catalog issue as `origin: path (entry): message`. */
export function formatCatalogIssue(issue: CatalogIssue): string {
  const entry = issue.entry ? ` (${issue.entry})` : "";
  return `${issue.origin}: ${issue.path}${entry}: ${issue.message}`;
}

/** An attribution alias map or an application-profile map that cannot be used. */
export class ConfigurationError extends BedrockSpendError {
  readonly origin: string;

  constructor(origin: string, message: string, options?: ErrorOptions) {
    super(`${origin}: ${message}`, options);
    this.name = "ConfigurationError";
    this.origin = origin;
  }
}
