/**
 * Lake: (being built).
 */
import type { StackContext } from "sst/constructs";

export function Lake({ stack }: StackContext) {
  void stack;
  return {};
}
