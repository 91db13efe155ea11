// Stop requests: SIGINT/SIGTERM as an AbortSignal, which every caller of startStack
// makes (stopRequests) and hands to it; a stop during the start is startStack's to
// carry out, one once the stack is up the caller's (stopOnSignals).
import { constants } from "node:os";

/**
 * A process ended by a signal exits 128 + its number (SIGINT 130, SIGTERM 143); 1 for anything else.
 *
 * @example signalExitCode("SIGTERM") // 143
 */
export const signalExitCode = (reason: string | undefined) => {
  const n = reason ? (constants.signals as Record<string, number | undefined>)[reason] : undefined;
  return n ? 128 + n : 1;
};

export type StopRequests = {
  /** Aborted by the first SIGINT/SIGTERM; its reason is the signal's name. */
  readonly signal: AbortSignal;
  /** Stops listening (the signals' default action comes back). */
  dispose(): void;
};

/**
 * SIGINT and SIGTERM as a stop request: the first aborts `signal`. A second one more
 * than a second later forces: the process exits at once (128 + n), and the exit hook
 * SIGKILLs the stack's children. Ctrl-C under `bun run` arrives twice at once (from
 * the terminal and forwarded by bun run): that pair counts as one request.
 *
 * @example
 * const requests = stopRequests();
 * const stack = await startStack({ signal: requests.signal });
 */
export function stopRequests(): StopRequests {
  const controller = new AbortController();
  let since = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (since) {
      if (Date.now() - since > 1000) {
        process.stderr.write(`\n${signal} again: forcing the stop\n`);
        process.exit(signalExitCode(signal));
      }
      return;
    }
    since = Date.now();
    controller.abort(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** Why a stop was asked for: the signal's name from stopRequests(), else "stop requested". */
export const reasonOf = (
  signal: AbortSignal,
) => (typeof signal.reason === "string" ? signal.reason : "stop requested");

/**
 * Runs `fn` once `signal` is aborted (at once if it already is); answers a function that stops listening.
 *
 * @example const unlisten = whenAborted(requests.signal, (reason) => console.log(reason));
 */
export function whenAborted(signal: AbortSignal, fn: (reason: string) => void) {
  if (signal.aborted) {
    fn(reasonOf(signal));
    return () => {};
  }
  const onAbort = () => fn(reasonOf(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/**
 * On the first stop request: says so, stops the stack and ends the process, with
 * `code` or else as the signal would have ended it (130, 143). Given the start's
 * promise, it waits for the start to settle (a start under way stops what it started
 * itself). A later second signal forces (see stopRequests).
 *
 * @example stopOnSignals(requests, startStack({ signal: requests.signal }));
 */
export function stopOnSignals(
  requests: StopRequests,
  stack: { stop(): Promise<unknown> } | Promise<{ stop(): Promise<unknown> }>,
  code?: number,
) {
  whenAborted(requests.signal, async (reason) => {
    process.stderr.write(`\n${reason}: stopping the stack…\n`);
    try {
      await (await Promise.resolve(stack).catch(() => undefined))?.stop();
    } catch (err) {
      console.error(err);
      process.exit(1);
    }
    process.exit(code ?? signalExitCode(reason));
  });
}
