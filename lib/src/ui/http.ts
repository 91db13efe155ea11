// What both page tiers put around every response: who served it, strict security
// headers, same-origin form checks that also hold behind HAProxy, and content
// negotiation between a page and the JSON error shape.
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { verifiedForwarded } from "../forwarded.ts";
import { fail } from "../http.ts";

/**
 * The identity as a header value: header values are bytes that browsers read as
 * Latin-1, so the page's "host · web-1" would arrive garbled; the header says
 * "host / web-1" (printable ASCII only).
 */
export const servedByHeader = (identity: string) =>
  identity.replace(/\s*·\s*/g, " / ").replace(/[^\x20-\x7e]/g, "?");

/** X-Served-By plus the security headers, on every response (errors included). */
export function pageHeaders(identity: string): MiddlewareHandler {
  const servedBy = servedByHeader(identity);
  const secure = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "same-origin",
    // Plain HTTP locally; HSTS belongs on the TLS terminator, not here.
    strictTransportSecurity: false,
  });
  // The headers do not depend on the request: hono/secure-headers' answer is taken
  // once and then copied onto every response (the middleware itself rebuilt them
  // per request: about 3% of a web server's CPU under load).
  const fixed = Promise.resolve(new Hono().use(secure).get("/", (c) => c.body(null)).request("/"))
    .then((res: Response) => [...res.headers].filter(([name]) => name !== "content-type"));
  return async (c, next) => {
    const headers = await fixed;
    await next();
    for (const [name, value] of headers) c.res.headers.set(name, value);
    c.res.headers.set("X-Served-By", servedBy);
  };
}

// Bun (1.4.5) writes a body of more than 16 KiB answered after an await (of network
// I/O, or only of a setImmediate: any response that passes an async middleware) about
// 5–8× slower than the same bytes as a stream of pieces of at most 16 KiB: measured with
// the storefront's page, 10,200 against 54,900 answers a second (docs/performance-notes.md).
// A plain stream of Web Streams, so Deno serves it alike.
const PIECE = 16 * 1024;
const encoder = new TextEncoder();

/**
 * A page made once and answered many times (pageBody): a Blob when it goes out whole
 * (a Response takes a Blob's bytes without copying them: about 1 µs of web's CPU a page),
 * else its bytes, sent as pieces.
 */
export type PageBody = Blob | Uint8Array<ArrayBuffer>;

/**
 * An HTML page as its response: the bytes whole when small, else as pieces of at
 * most 16 KiB, with their Content-Length either way.
 * @example
 * return htmlResponse(c, 200, text, { "Cache-Control": "no-store" });
 */
export function htmlResponse(
  c: Context,
  status: ContentfulStatusCode,
  page: string | PageBody,
  headers: Record<string, string> = {},
) {
  const body = typeof page === "string" ? encoder.encode(page) as Uint8Array<ArrayBuffer> : page;
  const length = body instanceof Blob ? body.size : body.length;
  const all = {
    "Content-Type": "text/html; charset=UTF-8",
    "Content-Length": String(length),
    ...headers,
  };
  if (body instanceof Blob || length <= PIECE) return c.body(body, status, all);
  const pieces = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(out) {
      for (let at = 0; at < length; at += PIECE) out.enqueue(body.subarray(at, at + PIECE));
      out.close();
    },
  });
  return c.body(pieces, status, all);
}

/**
 * A page's body as the storefront keeps it, made once per catalogue page: a Blob up
 * to 16 KiB, else the bytes (htmlResponse sends them as pieces).
 * @example
 * const body = pageBody(await renderHtml(<Storefront … />)); // then htmlResponse(c, 200, body)
 */
export const pageBody = (text: string): PageBody => {
  const bytes = encoder.encode(text) as Uint8Array<ArrayBuffer>;
  return bytes.length <= PIECE ? new Blob([bytes]) : bytes;
};

/** True when the Accept header asks for HTML before JSON (browsers do; API clients don't). */
export function prefersHtml(accept: string | undefined) {
  if (!accept) return false;
  let html = 0;
  let json = 0;
  let htmlFirst = false;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.trim().toLowerCase().split(";");
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) || 0 : 1;
    if (type === "text/html" || type === "application/xhtml+xml") {
      if (q > html) html = q;
      if (json === 0) htmlFirst = true;
    } else if (type === "application/json") {
      if (q > json) json = q;
    }
  }
  return html > json || (html > 0 && html === json && htmlFirst);
}

/** The forwarded facts of this request when the proxy signed them (lib/src/forwarded.ts). */
export const proxyForwarded = (c: Context, key: string | undefined) =>
  verifiedForwarded(key, (name) => c.req.header(name));

/**
 * The origins this request may come from: the one it was addressed to (its Host:
 * HAProxy forwards Host unchanged), and the proxy's X-Forwarded-Proto/-Host only when
 * the proxy signed them (`key`, REQUEST_ID_KEY) — a client's own are not evidence.
 */
export function sameOrigin(c: Context, origin: string, key: string | undefined) {
  const url = new URL(c.req.url);
  if (origin === url.origin || origin === `${url.protocol}//${c.req.header("host") ?? url.host}`) return true;
  const forwarded = proxyForwarded(c, key);
  return forwarded !== undefined && origin === `${forwarded.proto}://${forwarded.host}`;
}

/**
 * Refuse form posts from other sites (hono/csrf: Sec-Fetch-Site, else Origin), with
 * the origin compared to this site's (sameOrigin). A refusal is a 403 in the app's
 * error shape or page.
 */
export function sameOriginForms(key?: string): MiddlewareHandler {
  const check = csrf({ origin: (origin, c) => sameOrigin(c, origin, key) });
  return async (c, next) => {
    try {
      await check(c, next);
    } catch (err) {
      if (err instanceof HTTPException && err.status === 403 && err.res) {
        fail(
          403,
          "this form was sent from another site, so it was refused; please use the form on this site",
        );
      }
      throw err;
    }
  };
}

/** The address of every client whose address the proxy did not vouch for: one for all of them. */
export const UNVERIFIED_CLIENT = "unverified";

/**
 * The client's address: the proxy's (X-Forwarded-For's last entry) when it signed it,
 * else UNVERIFIED_CLIENT — whoever reaches a server's port directly can write any
 * X-Forwarded-For, so those clients count as one.
 */
export const clientIp = (c: Context, key: string | undefined) =>
  proxyForwarded(c, key)?.address ?? UNVERIFIED_CLIENT;
