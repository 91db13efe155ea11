// For unit tests of a typed client: a target that records what the client sends, and
// the fetch of an in-memory stand-in for an upstream API (./fake-api.ts, ./fake-admin-api.ts).

/** A service target whose fetch records each request (method, path with query, body) and answers `{"data":null}`. */
export function recordingTarget(url: string) {
  const sent: { method: string; path: string; body: string }[] = [];
  const target = {
    url,
    token: "t",
    timeoutMs: 100,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      const { pathname, search } = new URL(req.url);
      sent.push({ method: req.method, path: pathname + search, body: await req.text() });
      return Response.json({ data: null });
    },
  };
  return { target, sent };
}

/** What a stand-in upstream is doing: answering, refusing connections, hanging, or failing with 500. */
export type UpstreamMode = "ok" | "down" | "hang" | "error500";

/**
 * The fetch of an in-memory stand-in for an upstream API (./fake-api.ts,
 * ./fake-admin-api.ts): records each request in `state.seen`, fails as
 * `state.mode` says, refuses a wrong Bearer token with 401, else asks `app`.
 */
export const fakeUpstreamFetch = (
  app: { fetch: (req: Request) => Response | Promise<Response> },
  token: string,
  state: { mode: UpstreamMode; seen: Request[] },
) =>
async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const req = new Request(input, init);
  // A copy: the app reads the body of the one it is given.
  state.seen.push(req.clone());
  // As Bun's fetch fails on a refused connection: the code says it was never sent.
  if (state.mode === "down") {
    throw Object.assign(new TypeError("Unable to connect. Is the computer able to access the url?"), {
      code: "ECONNREFUSED",
    });
  }
  if (state.mode === "hang") {
    return new Promise<Response>((_, reject) => {
      const signal = init?.signal;
      signal?.addEventListener("abort", () => reject(signal.reason));
    });
  }
  if (state.mode === "error500") {
    return Response.json({ error: { code: 500, message: "internal error" } }, { status: 500 });
  }
  if (req.headers.get("authorization") !== `Bearer ${token}`) {
    return Response.json({ error: { code: 401, message: "unauthorized" } }, { status: 401 });
  }
  return app.fetch(req);
};
