// The admin API's route types for the typed client. `AdminApiApp` from
// admin-api/src/app.ts loses its routes today (lib's handleErrors returns Hono<E> with
// an empty schema), so this rebuilds the same type from admin-api's route modules.
// TODO: use `import type { AdminApiApp } from "@bazaar/admin-api/src/app.ts"` once handleErrors keeps the app's type.
import type { Hono } from "hono";
import type { MergeSchemaPath, Schema } from "hono/types";
import type { items } from "@bazaar/admin-api/src/routes/items.ts";
import type { orders } from "@bazaar/admin-api/src/routes/orders.ts";
import type { sessions } from "@bazaar/admin-api/src/routes/sessions.ts";

type SchemaOf<T> = T extends Hono<any, infer S extends Schema, any> ? S : never;

export type AdminApiApp = Hono<
  {},
  | MergeSchemaPath<SchemaOf<ReturnType<typeof items>>, "/items">
  | MergeSchemaPath<SchemaOf<ReturnType<typeof orders>>, "/orders">
  | MergeSchemaPath<SchemaOf<ReturnType<typeof sessions>>, "/sessions">,
  "/"
>;
