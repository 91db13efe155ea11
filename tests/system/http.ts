// Small HTTP helpers for the system tests: the public API as a program calls it
// (JSON in, JSON out), through HAProxy or straight at one web server.
import { env } from "./stack.ts";

export const store = () => env("STORE_URL");

// A reply body as the tests read it: any shape, checked by the expectations that follow.
// deno-lint-ignore no-explicit-any
export type Json = any;

/** A reply body as a test reads it: the parsed JSON, or the text when it is not JSON. */
export function jsonOrText(text: string): Json {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Straight to admin-api with its service token; a body that is not a string is sent as JSON. */
export async function adminApi(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${env("ADMIN_API_URL")}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${env("ADMIN_API_TOKEN")}`,
      "Content-Type": "application/json",
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { res, status: res.status, body: jsonOrText(await res.text()) };
}

/** GET as a program (Accept: application/json). */
export async function getJson(path: string, base = store(), headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers: { Accept: "application/json", ...headers } });
  return { res, status: res.status, body: jsonOrText(await res.text()) };
}

/** POST a raw body (any content type). */
export async function post(
  path: string,
  body: BodyInit,
  contentType = "application/json",
  base = store(),
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": contentType, ...headers },
    body,
  });
  return { res, status: res.status, body: jsonOrText(await res.text()) };
}

/** POST /orders with a JSON body (any value, so bad bodies can be sent too). */
export const buy = (order: unknown, base = store()) =>
  post("/orders", JSON.stringify(order), "application/json", base);

/** The current stock of a product through the public API. */
export async function stockOf(name: string, base = store()): Promise<number> {
  const { status, body } = await getJson(`/products/${encodeURIComponent(name)}`, base);
  if (status !== 200) throw new Error(`GET /products/${name}: HTTP ${status} ${JSON.stringify(body)}`);
  return body.data.quantity;
}

/** The design's error shape, exactly: {"error":{"code":N,"message":"…"}} (fields optional). */
export function isErrorShape(body: Json, code: number) {
  return (
    typeof body === "object" && body !== null && Object.keys(body).join() === "error" &&
    body.error.code === code && typeof body.error.message === "string" && body.error.message.length > 0
  );
}

/** GET as a browser (Accept: text/html); redirects are not followed. */
export async function getPage(path: string, base = store(), headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    headers: { Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ...headers },
    redirect: "manual",
  });
  return { res, status: res.status, html: await res.text() };
}

/** POST a form as a browser on `base`'s own site would (Origin of the site). */
export async function postForm(
  path: string,
  fields: Record<string, string>,
  base = store(),
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "Content-Type": "application/x-www-form-urlencoded",
      Origin: new URL(base).origin,
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
  return { res, status: res.status, html: await res.text() };
}

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
  "&#x27;": "'",
};
export const unescapeHtml = (s: string) => s.replace(/&(?:amp|lt|gt|quot|#39|#x27);/g, (e) => ENTITIES[e]!);

export type ShelfItem = { name: string; nameHtml: string; price: string; stock: string };

/** The storefront's product cards: each item's name (as text and as served), price and stock badge. */
export function shelf(html: string): ShelfItem[] {
  const cards = html.match(/<article class="card product[^"]*"[\s\S]*?<\/article>/g) ?? [];
  return cards.map((card) => {
    const nameHtml = card.match(/<h2 class="product-name">([\s\S]*?)<\/h2>/)?.[1] ?? "";
    return {
      name: unescapeHtml(nameHtml),
      nameHtml,
      price: card.match(/<span class="price">([^<]*)<\/span>/)?.[1] ?? "",
      stock: card.match(/<span class="badge[^"]*">([^<]*)<\/span>/)?.[1] ?? "",
    };
  });
}

/** The identity at the top left of a page (the first thing in its body). */
export const pageIdentity = (html: string) =>
  unescapeHtml(
    html.match(
      /<body>\s*<div class="topbar">\s*<div class="wrap">\s*<span class="served-by"[^>]*>([^<]*)<\/span>/,
    )?.[1] ?? "",
  );

/** X-Served-By for a page identity: "host · web-1" → "host / web-1" (header values stay ASCII). */
export const identityHeader = (identity: string) => identity.replace(" · ", " / ");
