// Progress on stderr while the run goes: a line redrawn in place on a terminal, and
// an occasional plain line otherwise (logs and CI should not fill with redraws). Once
// the shop is sold out — every product it reads at 0, so it buys nothing more — a
// line says so, once, with what brings the stock back.
import { RESTOCK_HINT } from "./sold-out.ts";
import { REQUEST_KINDS, type RunStats } from "./stats.ts";

export type ProgressSource = {
  stats: RunStats;
  orders: () => number;
  phase: () => string;
  /** Products at 0 of those read, and purchases skipped for it. */
  soldOut?: () => { soldOut: number; read: number; skipped: number };
};

/** The shop is sold out for this client: every product it read is at 0, and it wanted to buy. */
const allSoldOut = (s: { soldOut: number; read: number; skipped: number } | undefined) =>
  s !== undefined && s.read > 0 && s.soldOut === s.read && s.skipped > 0;

/** The line said once when the shop is sold out. */
export function soldOutLine(elapsedMs: number, read: number): string {
  return `${(elapsedMs / 1000).toFixed(1)}s the shop is sold out (all ${read} products read are at 0): ` +
    `no purchase from now on; ${RESTOCK_HINT}`;
}

export function progressLine(src: ProgressSource, elapsedMs: number): string {
  let requests = 0;
  let errors = 0;
  for (const k of REQUEST_KINDS) {
    requests += src.stats[k].count;
    errors += src.stats[k].errorCount;
  }
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? requests / seconds : 0;
  const stock = src.soldOut?.();
  return `${seconds.toFixed(1)}s ${src.phase()}: ${requests} requests, ${
    rate.toFixed(1)
  } req/s, ${errors} errors, ${src.orders()} orders${
    stock?.soldOut
      ? `, sold out ${stock.soldOut}/${stock.read}${allSoldOut(stock) ? " (buying nothing)" : ""}`
      : ""
  }`;
}

type Stream = { isTTY?: boolean; write(s: string): unknown };

export class Progress {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly started = performance.now();
  private readonly tty: boolean;
  private soldOutSaid = false;

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
    const elapsed = performance.now() - this.started;
    const stock = this.src.soldOut?.();
    if (!this.soldOutSaid && allSoldOut(stock)) {
      this.soldOutSaid = true;
      const said = soldOutLine(elapsed, stock!.read);
      this.stream.write(this.tty ? `\r\x1b[K${said}\n` : `${said}\n`);
    }
    const line = progressLine(this.src, elapsed);
    this.stream.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.stream.write("\r\x1b[K");
  }
}
