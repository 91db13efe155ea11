import type { ServiceDeps } from "@bazaar/lib/service.ts";

/** What admin-api's catalogue and order routes get. */
export type AdminApiDeps = ServiceDeps;
