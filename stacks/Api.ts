/**
 * Api: (being built).
 */
import type { StackContext } from "sst/constructs";

export function Api({ stack }: StackContext) {
  void stack;
  return {};
}
