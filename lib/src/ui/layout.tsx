/** @jsxImportSource hono/jsx */
// The shared page frame of the storefront and the admin site: the serving instance
// top left, the brand and navigation, the content, a footer. Data is only ever
// rendered as JSX text (escaped); nothing here uses raw HTML with data.
import type { Child } from "hono/jsx";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { html } from "hono/html";
import { htmlResponse } from "./http.ts";

export type Site = {
  /** Where the brand links to: "/" or "/admin". */
  home: string;
  /** Under the brand, e.g. "Admin". */
  section?: string;
  /** URL of the stylesheet (see styles.ts). */
  css: string;
  /** The header's links on a page that sets none of its own (error pages included). */
  nav?: Child;
};

export type LayoutProps = {
  identity: string;
  site: Site;
  title: string;
  nav?: Child;
  children?: Child;
};

export function Layout({ identity, site, title, nav, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{title === "Bazaar" ? title : `${title} · Bazaar`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={site.css} />
      </head>
      <body>
        <div class="topbar">
          <div class="wrap">
            <span class="served-by" title="The server that answered this page">{identity}</span>
            <span class="topbar-note">
              {site.section ? `Bazaar ${site.section}` : "Free shipping on every toy"}
            </span>
          </div>
        </div>
        <header class="header">
          <div class="wrap">
            <a class="brand" href={site.home}>
              <span class="brand-mark" aria-hidden="true">B</span>
              <span>Bazaar{site.section ? <small>{site.section}</small> : null}</span>
            </a>
            {nav ?? site.nav ? <nav class="nav" aria-label="Main">{nav ?? site.nav}</nav> : null}
          </div>
        </header>
        <main>
          <div class="wrap">{children}</div>
        </main>
        <footer class="footer">
          <div class="wrap">
            <span>© Bazaar — toys, gadgets and good things</span>
            <span>
              Served by <span class="served-by-plain">{identity}</span>
            </span>
          </div>
        </footer>
      </body>
    </html>
  );
}

/** A page as its final text: doctype + the rendered element. */
export const renderHtml = async (page: Child): Promise<string> => String(await html`<!DOCTYPE html>${page}`);

/** Answer a page (an element, or text from renderHtml) with the status given. */
export async function renderPage(c: Context, status: ContentfulStatusCode, page: Child | string) {
  return htmlResponse(c, status, typeof page === "string" ? page : await renderHtml(page), {
    "Cache-Control": "no-store",
  });
}

export type AlertKind = "success" | "error" | "info";

/** A message for the top of a page (a refusal, a flash after a redirect), shown as an Alert. */
export type Notice = { kind: AlertKind; text: string };

export function Alert({ kind, children }: { kind: AlertKind; children?: Child }) {
  return <div class={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>{children}</div>;
}

export function FieldError({ id, message }: { id: string; message?: string }) {
  return message ? <div class="field-error" id={id}>{message}</div> : null;
}

/**
 * Previous / next links and "Page 2 of 7" under a paged list. `href(n)` is page n's
 * address (with whatever else the list is filtered by).
 * @example
 * <Pager page={2} pages={7} href={(n) => `/?page=${n}`} />
 */
export function Pager(
  { page, pages, href, prev = "← Previous", next = "Next →" }: {
    page: number;
    pages: number;
    href: (page: number) => string;
    prev?: string;
    next?: string;
  },
) {
  return (
    <nav class="pagination" aria-label="Pages">
      <span class="muted">Page {page} of {pages}</span>
      <span class="pages">
        {page > 1
          ? (
            <a class="btn btn-small btn-secondary" href={href(Math.min(page - 1, pages))} rel="prev">
              {prev}
            </a>
          )
          : null}
        {page < pages
          ? <a class="btn btn-small btn-secondary" href={href(page + 1)} rel="next">{next}</a>
          : null}
      </span>
    </nav>
  );
}

/** A list's address with its page and search text (each left out at its default). */
export const listHref = (path: string, page: number, q: string) => {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `${path}?${query}` : path;
};

/** A search box for a list: GET `action` with `q`. */
export function SearchBox({ action, q, label }: { action: string; q: string; label: string }) {
  return (
    <form class="lookup" method="get" action={action} role="search">
      <label class="sr-only" for="search-q">{label}</label>
      <input
        class="input"
        id="search-q"
        type="search"
        name="q"
        value={q}
        maxlength={64}
        placeholder={label}
      />
      <button class="btn btn-secondary" type="submit">Search</button>
    </form>
  );
}

const TITLES: Record<number, string> = {
  400: "That didn't look right",
  401: "Please sign in",
  403: "Not allowed",
  404: "Page not found",
  409: "That can't be done right now",
  413: "Too much data",
  415: "Unsupported request",
  429: "Too many attempts",
  500: "Something went wrong",
  503: "Temporarily unavailable",
  504: "Not confirmed in time",
};

/** The page for any error: a title for the status, the message, a way back. */
export function ErrorPage(
  props: {
    identity: string;
    site: Site;
    status: number;
    message: string;
    nav?: Child;
    back?: { href: string; label: string };
  },
) {
  const title = TITLES[props.status] ??
    (props.status >= 500 ? "Something went wrong" : "Something is not right");
  const back = props.back ??
    { href: props.site.home, label: props.site.section ? "Back to the dashboard" : "Back to the store" };
  return (
    <Layout identity={props.identity} site={props.site} title={title} nav={props.nav}>
      <section class="card error-page">
        <div class="card-body">
          <div class="error-code">{props.status}</div>
          <h1>{title}</h1>
          <p class="muted">{sentence(props.message)}</p>
          <a class="btn" href={back.href}>{back.label}</a>
        </div>
      </section>
    </Layout>
  );
}

/** "the store is temporarily unavailable" → "The store is temporarily unavailable." */
export const sentence = (message: string) => {
  const s = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
};

/** Answer an error as its page (for apps whose error responder renders HTML). */
export const renderErrorPage = (
  c: Context,
  status: ContentfulStatusCode,
  props: {
    identity: string;
    site: Site;
    message: string;
    nav?: Child;
    back?: { href: string; label: string };
  },
) => renderPage(c, status, <ErrorPage {...props} status={status} />);
