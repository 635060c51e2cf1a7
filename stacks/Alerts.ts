/**
 * Alerts: (being built).
 */
import type { StackContext } from "sst/constructs";

export function Alerts({ stack }: StackContext) {
  void stack;
  return {};
}
