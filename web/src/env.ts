import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "@bazaar/lib/log.ts";
import type { Site } from "@bazaar/lib/ui/layout.tsx";
import type { ApiClient } from "./api.ts";
import type { CatalogReader } from "./catalog.ts";

/** What every route of the storefront gets: the api client, its catalogue reader, who we are, the look. */
export type WebDeps = { api: ApiClient; catalog: CatalogReader; identity: string; site: Site };

/** Per request: the request id, and how errors are answered (a page, JSON, or by the Accept header). */
export type WebEnv = { Variables: AppEnv["Variables"] & { errorFormat?: "html" | "json" } };

/** Route middleware: answer this route's errors as a page or as JSON. */
export const errorsAs = (format: "html" | "json"): MiddlewareHandler<WebEnv> => async (c, next) => {
  c.set("errorFormat", format);
  await next();
};
