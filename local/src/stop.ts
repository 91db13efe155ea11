// Stop requests: SIGINT/SIGTERM, or a caller's AbortSignal, as what stops a stack.
// A stack started without a signal of the caller's is guarded: on SIGINT/SIGTERM it
// is stopped (one still starting: what it started so far), then the process ends as
// the signal would have ended it (exit 128 + n: 130, 143).
import { constants } from "node:os";
import type { Stack } from "./stack.ts";

/** A process ended by a signal exits 128 + its number (SIGINT 130, SIGTERM 143); 1 for anything else. */
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

/** Runs `fn` once `signal` is aborted (at once if it already is); answers a function that stops listening. */
export function whenAborted(signal: AbortSignal, fn: (reason: string) => void) {
  if (signal.aborted) {
    fn(reasonOf(signal));
    return () => {};
  }
  const onAbort = () => fn(reasonOf(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

// Stacks started without a caller's signal. On SIGINT/SIGTERM every one of them is
// stopped (one still starting: what it started), then the process exits 128 + n.
const guarded = new Map<object, (reason: string) => Promise<unknown>>();
let guardRequests: StopRequests | undefined;

export function guard(key: object, stop: (reason: string) => Promise<unknown>) {
  guarded.set(key, stop);
  if (guardRequests) return;
  const requests = (guardRequests = stopRequests());
  whenAborted(requests.signal, (reason) => {
    process.stderr.write(`\n${reason}: stopping the stack…\n`);
    void Promise.allSettled([...guarded.values()].map((s) => s(reason))).then(() =>
      process.exit(signalExitCode(reason))
    );
  });
}

export function unguard(key: object) {
  guarded.delete(key);
  // Once a stop was asked for, the listeners stay: a later second signal still forces.
  if (guarded.size === 0 && guardRequests && !guardRequests.signal.aborted) {
    guardRequests.dispose();
    guardRequests = undefined;
  }
}

/**
 * Stops a started stack on the first stop request and exits with `code`; a later
 * second signal forces (see stopRequests). For a stack started with
 * `signal: requests.signal`, so that one listener covers the start and the run.
 */
export function stopOnSignals(stack: Stack, code = 0, requests: StopRequests = stopRequests()) {
  whenAborted(requests.signal, (reason) => {
    process.stderr.write(`\n${reason}: stopping the stack…\n`);
    stack.stop().then(
      () => process.exit(code),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
