// /healthz (the process is up) for every app. The APIs' /readyz (what they depend
// on) is in data/service.ts.
import type { Context } from "hono";

/** What a tier counts of its own work, reported on /healthz (the bench reads them). */
export type Counts = () => Record<string, unknown>;

/** The answer to /healthz: the process is up and serving; with `counts`, what it counted too. */
export const healthz = (counts?: Counts) => (c: Context) => c.json({ data: { status: "ok", ...counts?.() } });
export const alive = healthz();
