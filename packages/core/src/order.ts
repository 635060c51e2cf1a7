/**
 * Orders shared by every package: strings by UTF-16 code unit (what `sort()` does, as a
 * comparator), and stream sequence numbers, which are decimal strings of up to 128 bits (Kinesis,
 * DynamoDB Streams) and so compare as integers, not as text.
 */

/** Compares strings by UTF-16 code unit, the order of `Array.prototype.sort` without a comparator. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares stream sequence numbers as the integers they are; ids that are not decimal (a test's
 * own ordered ids) compare by code unit.
 */
export function compareSequenceNumbers(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return byCodeUnit(a, b);
}

/** Where a Kinesis record came from, as decoded items and quarantined records name it: `kinesis:<shard id>:<sequence number>`. */
export function kinesisSource(shardId: string, sequenceNumber: string): string {
  return `kinesis:${shardId}:${sequenceNumber}`;
}
