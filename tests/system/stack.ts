// The stack the system tests run against. Importing this module starts it on demand
// (tests/setup.ts: once per run, stopped after the last file), so every test file that
// needs the stack imports it, directly or through helpers.ts / http.ts, and a run of
// unit tests or of tests/compose/ alone never starts one. Either a local stack (then
// tests may stop, start and kill services through stack()), or an external one named
// by STORE_URL (then only the URLs in process.env exist).
import type { Stack } from "../../local/src/index.ts";
import { startTestStack } from "../setup.ts";

let current: Stack | undefined;
let startError: Error | undefined;
try {
  current = await startTestStack();
} catch (err) {
  startError = err as Error;
}

/** The local stack; throws when there is none (external STORE_URL, or it failed to start). */
export function stack(): Stack {
  if (startError) throw new Error(`the test stack failed to start:\n${startError.message}`);
  if (!current) throw new Error("no local stack to control: tests run against STORE_URL (an external stack)");
  return current;
}

/** True when tests may control services (stop/start/kill): a local stack is up. */
export const hasLocalStack = () => current !== undefined;

/** Why the stack is not there, if it failed to start. */
export const stackError = () => startError;

/** A variable tests/setup.ts exported (STORE_URL, API_TOKEN, …); throws naming it when unset. */
export function env(name: string): string {
  if (startError) throw new Error(`the test stack failed to start:\n${startError.message}`);
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (start the test stack, or set it for an external one)`);
  return v;
}

/** The instance that answered (from X-Served-By, "<host> / web-1"), e.g. "web-1". */
export function servedBy(res: Response): string | undefined {
  return res.headers.get("x-served-by")?.match(/(web|admin)-\d+/)?.[0];
}

/** Polls `check` until it returns true or the time is up. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(stepMs);
  }
}

/** The stats page's login (STATS_USER, STATS_PASSWORD) as request headers. */
export const statsAuth = (): Record<string, string> => ({
  Authorization: `Basic ${btoa(`${env("STATS_USER")}:${env("STATS_PASSWORD")}`)}`,
});

/** HAProxy's view of one server (UP, DOWN, MAINT, …), from the stats page's CSV. */
export async function proxyStatus(backend: string, server: string): Promise<string | undefined> {
  const res = await fetch(`${env("STATS_URL")}/;csv`, { headers: statsAuth() });
  const csv = await res.text();
  for (const line of csv.split("\n")) {
    const cols = line.split(",");
    if (cols[0] === backend && cols[1] === server) return cols[17];
  }
  return undefined;
}
