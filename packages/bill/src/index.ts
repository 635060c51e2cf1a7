/**
 * @bedrock-spend/bill: the AWS bill. CUR 2.0 exports read and summed by DuckDB (`readCur`), and
 * CUR files written from line items (`writeCurFiles`, for synthetic bills in tests and benchmarks).
 */
export * from "./cur-reader";
export * from "./cur-writer";
