/**
 * Analytics: (being built).
 */
import type { StackContext } from "sst/constructs";

export function Analytics({ stack }: StackContext) {
  void stack;
  return {};
}
