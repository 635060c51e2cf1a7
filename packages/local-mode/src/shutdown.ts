/**
 * SIGINT / SIGTERM handling for processes that run local services: the first signal runs every
 * registered shutdown (stop the loops, flush the Firehose, stop Java and kinesalite, release the
 * lock); a second signal exits at once (DynamoDB Local's exit hook still kills the JVM).
 */

/** A shutdown run on the first signal. */
export interface ShutdownHandler {
  run(signal: NodeJS.Signals): Promise<void> | void;
  /** Exit the process (128 + signal number) once every handler has run. */
  exit: boolean;
}

const handlers = new Set<ShutdownHandler>();
let shuttingDown = false;
let firstSignalAt = 0;

/**
 * A signal this soon after the first is the same Ctrl-C delivered twice (the terminal signals the
 * whole process group, and a wrapper such as tsx relays it again), not a second Ctrl-C.
 */
const REPEAT_WINDOW_MS = 1_000;

const EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

function onSignal(signal: NodeJS.Signals): void {
  const code = EXIT_CODES[signal] ?? 1;
  if (shuttingDown) {
    if (Date.now() - firstSignalAt < REPEAT_WINDOW_MS) return;
    process.exit(code);
  }
  shuttingDown = true;
  firstSignalAt = Date.now();
  const running = [...handlers];
  void Promise.allSettled(running.map((handler) => handler.run(signal))).then(() => {
    shuttingDown = false;
    if (running.some((handler) => handler.exit)) process.exit(code);
  });
}

function sync(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeListener(signal, onSignal);
    if (handlers.size > 0) process.on(signal, onSignal);
  }
}

/** Registers a shutdown for SIGINT and SIGTERM; returns its removal. */
export function onShutdownSignal(handler: ShutdownHandler): () => void {
  handlers.add(handler);
  sync();
  return () => {
    handlers.delete(handler);
    sync();
  };
}
