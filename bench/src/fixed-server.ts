// The ceiling's backend: a Bun server that answers every request with the same
// bytes (the storefront page as captured once), and /healthz for HAProxy's checks.
// Usage: bun bench/src/fixed-server.ts <port> <file>
const [port, file] = process.argv.slice(2);
const page = new Uint8Array(await Bun.file(file!).arrayBuffer());
const headers = { "content-type": "text/html; charset=utf-8" };
Bun.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  fetch: (
    req,
  ) => (req.url.endsWith("/healthz")
    ? Response.json({ data: { status: "ok" } })
    : new Response(page, { headers })),
});
export {};
