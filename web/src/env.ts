import type { MiddlewareHandler } from "hono";
import type { HonoEnv } from "@bazaar/lib/log.ts";
import type { Site } from "@bazaar/lib/ui/layout.tsx";
import type { ApiClient } from "./api-client.ts";
import type { CatalogReader } from "./catalog-reader.ts";

/** What every route of the storefront gets: the api client, its catalogue reader, who we are, the look. */
export type WebDeps = {
  api: ApiClient;
  /** The api as purchases call it: with their own deadline (API_WRITE_TIMEOUT_MS). */
  purchases: ApiClient;
  catalog: CatalogReader;
  identity: string;
  site: Site;
};

/** Hono's Env of the storefront, per request: the request id, and how errors are answered (a page, JSON, or by the Accept header). */
export type WebHonoEnv = { Variables: HonoEnv["Variables"] & { errorFormat?: "html" | "json" } };

/** Route middleware: answer this route's errors as a page or as JSON. */
export const errorsAs = (format: "html" | "json"): MiddlewareHandler<WebHonoEnv> => async (c, next) => {
  c.set("errorFormat", format);
  await next();
};
