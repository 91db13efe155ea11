// Small HTTP helpers for the system tests: the public API as a program calls it
// (JSON in, JSON out), through HAProxy or straight at one web server.
import { env } from "./stack.ts";

export const store = () => env("STORE_URL");

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** GET as a program (Accept: application/json). */
export async function getJson(path: string, base = store(), headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers: { Accept: "application/json", ...headers } });
  const text = await res.text();
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { res, status: res.status, body };
}

/** POST a raw body (any content type). */
export async function post(path: string, body: BodyInit, contentType = "application/json", base = store(), headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": contentType, ...headers },
    body,
  });
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { res, status: res.status, body: parsed };
}

/** POST /orders with a JSON body (any value, so bad bodies can be sent too). */
export const buy = (order: unknown, base = store()) => post("/orders", JSON.stringify(order), "application/json", base);

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
