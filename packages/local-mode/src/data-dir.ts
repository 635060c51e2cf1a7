/**
 * The layout of a local data dir (`--data-dir`, default `.bedrock-spend/`): every local service
 * keeps its state here, so that a second run on the same directory keeps the data.
 *
 *   dynamodb/           DynamoDB Local's database files (-dbPath)
 *   kinesis/            kinesalite's LevelDB (the stream)
 *   lake/usage/...      the Parquet lake (year=/month=/day=), written by DuckDB
 *   lake-errors/        records the local Firehose could not deliver (its S3 error prefix)
 *   quarantine/         the dead-letter queue: invalid records, on-failure batch infos
 *   checkpoints.json    how far each local consumer has read the streams
 *   bedrock-profiles.json  the application inference profiles of the Bedrock stand-in
 *   .lock               the process that runs the stack (pid, endpoints)
 */
import { join, resolve } from "node:path";

/** The aggregates table of local mode. */
export const LOCAL_TABLE_NAME = "bedrock-spend-aggregates";

/** The Kinesis stream of local mode (where the CloudWatch Logs subscription would put). */
export const LOCAL_STREAM_NAME = "bedrock-spend-invocations";

/** Default data dir, relative to the working directory. */
export const DEFAULT_DATA_DIR = ".bedrock-spend";

/** Paths of a data dir. */
export interface DataDirLayout {
  root: string;
  dynamodb: string;
  kinesis: string;
  lake: string;
  lakeErrors: string;
  /** Lake files a reprice replaced, kept by reprice id (`lake-history/<id>/year=/month=/day=/`). */
  lakeHistory: string;
  quarantine: string;
  checkpoints: string;
  /** The Bedrock control-plane stand-in's application inference profiles. */
  bedrockProfiles: string;
  lock: string;
}

/** The paths of the data dir `dataDir` (made absolute). */
export function dataDirLayout(dataDir: string): DataDirLayout {
  const root = resolve(dataDir);
  return {
    root,
    dynamodb: join(root, "dynamodb"),
    kinesis: join(root, "kinesis"),
    lake: join(root, "lake"),
    lakeErrors: join(root, "lake-errors"),
    lakeHistory: join(root, "lake-history"),
    quarantine: join(root, "quarantine"),
    checkpoints: join(root, "checkpoints.json"),
    bedrockProfiles: join(root, "bedrock-profiles.json"),
    lock: join(root, ".lock"),
  };
}
