// The api's route types for the typed client. `ApiApp` from api/src/app.ts loses its
// routes today (lib's handleErrors returns Hono<E> with an empty schema), so this
// rebuilds the same type from the api's own route modules.
// TODO: use `import type { ApiApp } from "@bazaar/api/src/app.ts"` once handleErrors keeps the app's type.
import type { Hono } from "hono";
import type { MergeSchemaPath, Schema } from "hono/types";
import type { items } from "@bazaar/api/src/routes/items.ts";
import type { orders } from "@bazaar/api/src/routes/orders.ts";

type SchemaOf<T> = T extends Hono<any, infer S extends Schema, any> ? S : never;

export type ApiApp = Hono<
  {},
  | MergeSchemaPath<SchemaOf<ReturnType<typeof items>>, "/items">
  | MergeSchemaPath<SchemaOf<ReturnType<typeof orders>>, "/orders">,
  "/"
>;
