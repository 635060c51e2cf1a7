/**
 * Errors of the local lake.
 */
import { BedrockSpendError } from "@bedrock-spend/core";

/** Why a query failed: refused by the read-only check, or rejected or failed by DuckDB. */
export type QueryErrorKind = "refused" | "failed";

/**
 * A query that did not run: a statement other than a read (`refused`), or SQL that DuckDB
 * rejected or failed on (`failed`: syntax, unknown table or column, type error, ...). The message
 * is DuckDB's own for `failed`, with the line and caret it prints.
 */
export class QueryError extends BedrockSpendError {
  readonly kind: QueryErrorKind;
  readonly sql: string;
  /** DuckDB's error class, e.g. `Parser Error`, `Binder Error`, `Catalog Error`; undefined for a refusal. */
  readonly errorType: string | undefined;

  constructor(kind: QueryErrorKind, sql: string, message: string, options?: ErrorOptions & { errorType?: string }) {
    super(message, options);
    this.name = "QueryError";
    this.kind = kind;
    this.sql = sql;
    this.errorType = options?.errorType;
  }

  /** A QueryError of kind `failed` from an error DuckDB threw. */
  static fromDuckDb(sql: string, error: unknown): QueryError {
    const raw = error instanceof Error ? error.message : String(error);
    // The node binding prefixes parse errors with "Failed to extract statements: ".
    const message = raw.replace(/^Failed to extract statements: /, "");
    const errorType = /^([A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)* Error):/.exec(message)?.[1];
    return new QueryError("failed", sql, message, { cause: error, ...(errorType ? { errorType } : {}) });
  }
}

/** A batch that could not be written to the lake (the files of the batch are not published). */
export class LakeWriteError extends BedrockSpendError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LakeWriteError";
  }
}
