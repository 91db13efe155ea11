// Readiness probes: a TCP connect for the database and Redis, GET /healthz for the apps.
import net from "node:net";

export type Probe = { tcp: { host: string; port: number } } | { http: string };

export const describe = (p: Probe) => ("tcp" in p ? `tcp ${p.tcp.host}:${p.tcp.port}` : `GET ${p.http}`);

export function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export const probeOnce = (p: Probe) => ("tcp" in p ? tcpOpen(p.tcp.host, p.tcp.port) : httpOk(p.http));

export class NotReadyError extends Error {}

/**
 * Polls until the probe passes. Gives up when `timeoutMs` passes or as soon as
 * `gone()` says the process has exited (no point waiting for a dead one).
 */
export async function waitFor(p: Probe, opts: { timeoutMs: number; gone?: () => string | undefined }) {
  const deadline = Date.now() + opts.timeoutMs;
  for (let delay = 25;; delay = Math.min(delay * 2, 250)) {
    const why = opts.gone?.();
    if (why) throw new NotReadyError(why);
    if (await probeOnce(p)) return;
    if (Date.now() > deadline) {
      throw new NotReadyError(`not ready after ${opts.timeoutMs} ms (${describe(p)})`);
    }
    await Bun.sleep(delay);
  }
}

/** True when something already listens on the port (so our service would clash). */
export const portTaken = (port: number) => tcpOpen("127.0.0.1", port, 300);
