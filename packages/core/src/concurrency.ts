/** Bounded concurrency for the adapters' fan-out reads (the function itself does no I/O). */

/** Runs `work` over `items`, at most `limit` at a time; the results in the items' order. Rejects with the first failure. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
