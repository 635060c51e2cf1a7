/**
 * Monitoring: (being built).
 */
import type { StackContext } from "sst/constructs";

export function Monitoring({ stack }: StackContext) {
  void stack;
  return {};
}
