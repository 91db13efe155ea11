// The ceiling's backend: a Bun server that answers every request with the same
// bytes (the storefront page as captured once), and /healthz for HAProxy's checks.
// Usage: bun bench/src/fixed-server.ts <port> <file> [µs of CPU to spend per answer]
// (the last for bench/src/proxy-rate.ts: a backend as slow as a store's, same bytes).
const [port, file, costUs = "0"] = process.argv.slice(2);
const costMs = Number(costUs) / 1000;
const spend = () => {
  for (const until = performance.now() + costMs; performance.now() < until;);
};
const page = new Uint8Array(await Bun.file(file!).arrayBuffer());
const headers = { "content-type": "text/html; charset=utf-8" };
Bun.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  fetch: (
    req,
  ) => (req.url.endsWith("/healthz")
    ? Response.json({ data: { status: "ok" } })
    : (costMs > 0 && spend(), new Response(page, { headers }))),
});
export {};
