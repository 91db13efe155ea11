import type { Site } from "@bazaar/lib/ui/layout.tsx";
import type { AdminApiClient } from "./admin-api.ts";
import type { Session, Sessions } from "./session.ts";

export type AdminEnv = { Variables: { session: Session } };

/** What the admin routes get. */
export type AdminDeps = { adminApi: AdminApiClient; identity: string; site: Site; sessions: Sessions };
