/**
 * Partial batch responses of the stream event source mappings (Kinesis, DynamoDB streams) with
 * `ReportBatchItemFailures`: the one place a handler's "retry from here" becomes Lambda's answer.
 */

/** What a stream handler answers (Lambda's `KinesisStreamBatchResponse` and `DynamoDBBatchResponse`). */
export interface PartialBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * The response that makes Lambda retry the batch from `retryFrom` (the sequence number of the
 * lowest record that failed), or move past it when undefined. For streams, Lambda checkpoints
 * before the lowest failed sequence number, so one item says it all.
 */
export function partialBatchResponse(retryFrom: string | undefined): PartialBatchResponse {
  return { batchItemFailures: retryFrom === undefined ? [] : [{ itemIdentifier: retryFrom }] };
}
