// Progress on stderr while the run goes: a line redrawn in place on a terminal, and
// an occasional plain line otherwise (logs and CI should not fill with redraws).
import { REQUEST_KINDS, type RunStats } from "./stats.ts";

export type ProgressSource = { stats: RunStats; orders: () => number; phase: () => string };

export function progressLine(src: ProgressSource, elapsedMs: number): string {
  let requests = 0;
  let errors = 0;
  for (const k of REQUEST_KINDS) {
    requests += src.stats[k].count;
    errors += src.stats[k].errorCount;
  }
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? requests / seconds : 0;
  return `${seconds.toFixed(1)}s ${src.phase()}: ${requests} requests, ${
    rate.toFixed(1)
  } req/s, ${errors} errors, ${src.orders()} orders`;
}

type Stream = { isTTY?: boolean; write(s: string): unknown };

export class Progress {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly started = performance.now();
  private readonly tty: boolean;

  constructor(
    private readonly src: ProgressSource,
    private readonly stream: Stream = process.stderr,
    tickMs?: number,
  ) {
    this.tty = Boolean(stream.isTTY);
    const every = tickMs ?? (this.tty ? 250 : 5000);
    this.timer = setInterval(() => this.draw(), every);
    // Never keep the process alive just to draw progress.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private draw(): void {
    const line = progressLine(this.src, performance.now() - this.started);
    this.stream.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.stream.write("\r\x1b[K");
  }
}
