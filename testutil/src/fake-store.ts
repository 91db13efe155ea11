// A small in-memory store with the design's public JSON API, for testing the client
// on its own (the real end-to-end run against the full stack lives in tests/system).
// Tests bend it with `intercept` to produce the failures the client must catch.
//   bun testutil/src/fake-store.ts [port]   serves it by hand (e.g. for the README's example)

export type FakeItem = { name: string; quantity: number; price: number };
export type FakeOrder = { number: number; name: string; quantity: number };
export type Route = "product" | "order" | "lookup" | "other";

export type FakeStoreOptions = {
  items?: FakeItem[];
  /** Called before the store answers; a Response replaces the store's own answer. */
  intercept?: (route: Route, req: Request, url: URL) => Response | undefined | Promise<Response | undefined>;
  port?: number;
};

export const SEED_ITEMS: FakeItem[] = [
  { name: "Tux", quantity: 100, price: 15.99 },
  { name: "Fox", quantity: 100, price: 12.5 },
  { name: "Python", quantity: 100, price: 9.99 },
  { name: "Whale", quantity: 100, price: 20 },
  { name: "Gopher", quantity: 100, price: 11.25 },
  { name: "Ferris", quantity: 100, price: 14 },
  { name: "Duke", quantity: 100, price: 8.75 },
  { name: "Elephant", quantity: 100, price: 18.4 },
  { name: "Octocat", quantity: 100, price: 16 },
  { name: "Dolphin", quantity: 100, price: 13.3 },
];

const json = (status: number, body: unknown) => Response.json(body, { status });
const error = (status: number, message: string) => json(status, { error: { code: status, message } });

export type FakeStore = {
  url: string;
  items: Map<string, FakeItem>;
  orders: Map<number, FakeOrder>;
  /** Requests seen per route. */
  hits: Record<Route, number>;
  stop: () => Promise<void>;
};

/**
 * Serves the store's public API from memory on 127.0.0.1.
 * @example
 * const store = startFakeStore({ intercept: (route) => route === "order" ? new Response(null, { status: 503 }) : undefined });
 * await runClient({ url: store.url, seed: 7, sessions: 2, iterations: 10, p: 0.5, quiet: true });
 * await store.stop();
 */
export function startFakeStore(opts: FakeStoreOptions = {}): FakeStore {
  // Keyed by lower case: names are unique ignoring case (design: Data).
  const items = new Map((opts.items ?? SEED_ITEMS).map((i) => [i.name.toLowerCase(), { ...i }]));
  const orders = new Map<number, FakeOrder>();
  const hits: Record<Route, number> = { product: 0, order: 0, lookup: 0, other: 0 };
  // Numbered from 0, as the lab says (and the real store answers).
  let nextOrder = 0;

  const answer = async (route: Route, req: Request, url: URL): Promise<Response> => {
    if (route === "product") {
      const item = items.get(decodeURIComponent(url.pathname.slice("/products/".length)).toLowerCase());
      return item ? json(200, { data: { ...item } }) : error(404, "product not found");
    }
    if (route === "lookup") {
      const order = orders.get(Number(url.pathname.slice("/orders/".length)));
      return order ? json(200, { data: { ...order } }) : error(404, "order not found");
    }
    if (route === "order") {
      if (!/^application\/json/i.test(req.headers.get("content-type") ?? "")) {
        return error(415, "content type must be application/json");
      }
      let body: { name?: unknown; quantity?: unknown };
      try {
        body = (await req.json()) as typeof body;
      } catch {
        return error(400, "body must be JSON");
      }
      if (typeof body.name !== "string" || body.name.length === 0) return error(400, "name: is required");
      if (typeof body.quantity !== "number" || !Number.isInteger(body.quantity) || body.quantity < 1) {
        return error(400, "quantity: must be at least 1");
      }
      const item = items.get(body.name.toLowerCase());
      if (!item) return error(404, "product not found");
      if (item.quantity < body.quantity) return error(409, "not enough stock");
      // No await between the check and the change: the purchase is atomic.
      item.quantity -= body.quantity;
      const number = nextOrder++;
      orders.set(number, { number, name: item.name, quantity: body.quantity });
      return json(200, { data: { order_number: number } });
    }
    return error(404, "not found");
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    async fetch(req) {
      const url = new URL(req.url);
      const route: Route = req.method === "GET" && url.pathname.startsWith("/products/")
        ? "product"
        : req.method === "POST" && url.pathname === "/orders"
        ? "order"
        : req.method === "GET" && /^\/orders\/[^/]+$/.test(url.pathname)
        ? "lookup"
        : "other";
      hits[route]++;
      return (await opts.intercept?.(route, req, url)) ?? answer(route, req, url);
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, items, orders, hits, stop: () => server.stop(true) };
}

if (import.meta.main) {
  const store = startFakeStore({ port: Number(process.argv[2] ?? 8080) });
  console.error(`fake store on ${store.url}`);
}
