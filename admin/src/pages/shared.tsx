/** @jsxImportSource hono/jsx */
// What the admin site's pages (one file each here) share: the frame, the forms' hidden
// fields (the session's CSRF token, the write's Idempotency-Key) and the navigation.
// Data is only ever JSX text (escaped).
import type { Child } from "hono/jsx";
import { Layout, type Site } from "@bazaar/lib/ui/layout.tsx";
import type { Session } from "../session.ts";

/** What every page is drawn in: who serves it, and the look. */
export type Frame = { identity: string; site: Site };

/** What a form showed: the user's input as typed, and a message per bad field. */
export type FormState<F extends string> = {
  values: Partial<Record<F, string>>;
  errors: Partial<Record<F, string>>;
};

/** The session's CSRF token: every form of the admin site carries it. */
export function Csrf({ session }: { session: Session }) {
  return <input type="hidden" name="_csrf" value={session.csrf} />;
}

/**
 * A new Idempotency-Key with each form rendered: the same form sent twice (a reload,
 * back and save again after "not confirmed in time") is applied once (admin-api/src/once.ts).
 */
export const WRITE_KEY_FIELD = "idem";

export function WriteKey() {
  return <input type="hidden" name={WRITE_KEY_FIELD} value={crypto.randomUUID()} />;
}

/** The admin's navigation: inventory, orders, the store, and signing out. */
export function AdminNav({ session, active }: { session: Session; active: "items" | "orders" }) {
  return (
    <>
      <a href="/admin" aria-current={active === "items" ? "page" : undefined}>Inventory</a>
      <a href="/admin/orders" aria-current={active === "orders" ? "page" : undefined}>Orders</a>
      <a href="/">View store</a>
      <form method="post" action="/admin/logout">
        <Csrf session={session} />
        <button class="linkish" type="submit" title={`Signed in as ${session.user}`}>Sign out</button>
      </form>
    </>
  );
}

/** aria-invalid for a field with a message. */
export const invalid = (message?: string) => (message ? "true" : undefined);

/** A signed-in page: the layout, with the admin's navigation marking `active`. */
export function AdminPage(
  props: Frame & { session: Session; title: string; active: "items" | "orders"; children?: Child },
) {
  return (
    <Layout
      identity={props.identity}
      site={props.site}
      title={props.title}
      nav={<AdminNav session={props.session} active={props.active} />}
    >
      {props.children}
    </Layout>
  );
}
