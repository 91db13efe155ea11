// One wrk run (Debian's wrk 4.1) and its figures. Every run uses a Lua script that
// counts responses by status in each thread and prints one JSON line from done(),
// so errors are counted exactly (a 409 from a sold-out item is not a socket error).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export type WrkResult = {
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  /** Latency in milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Responses by status, e.g. {"200": 9000, "409": 12}. */
  statuses: Record<string, number>;
  /** Socket errors (connect, read, write, timeout) plus unexpected statuses. */
  errors: number;
  socketErrors: number;
};

// What each thread counts, and the report. thread:get reads a thread's globals.
const COUNTING = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
counts = {}
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("counts")) do merged[s] = (merged[s] or 0) + n end
  end
  local parts = {}
  for s, n in pairs(merged) do table.insert(parts, string.format('"%d":%d', s, n)) end
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"socket":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"statuses":{%s}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, table.concat(parts, ",")))
end
`;

/** A request script: what wrk sends. Plain GETs need none. */
export type Script = { lua: string; ok?: (status: number) => boolean };

export const postJson = (pathname: string, bodies: string[]): Script => ({
  // Bodies are picked round robin per thread; each is a whole JSON document.
  lua: `
local bodies = { ${bodies.map((b) => `[[${b}]]`).join(", ")} }
local i = 0
function request()
  i = i + 1
  return wrk.format("POST", "${pathname}", { ["Content-Type"] = "application/json" }, bodies[(i % #bodies) + 1])
end`,
});

/** GET each path of the list in turn (per thread, from a different start). */
export const getEach = (paths: string[]): Script => ({
  lua: `
local paths = { ${paths.map((p) => `"${p}"`).join(", ")} }
local i = math.random(#paths)
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end`,
});

/** Shares of the mixed load, as the lab's clients send them: page, purchase; the rest item reads. */
export const MIX = { page: 0.1, buy: 0.1 };

/**
 * Reads and purchases of the same items, as the lab's clients make them: about 10%
 * GET /, 10% POST /orders (quantity 1 of one of `buys`), the rest GET one of `reads`.
 * With `spread`, half of the item reads go to a random one of `count` generated paths
 * instead (`luaFormat`, a Lua string.format pattern taking the number), so a big
 * catalogue is read all over, not just the listed paths.
 */
export const mixed = (
  { reads, buys, spread }: { reads: string[]; buys: string[]; spread?: { count: number; luaFormat: string } },
): Script => ({
  lua: `
local reads = { ${reads.map((p) => `"${p}"`).join(", ")} }
local bodies = { ${buys.map((name) => `[[${JSON.stringify({ name, quantity: 1 })}]]`).join(", ")} }
local spread = ${spread?.count ?? 0}
local headers = { ["Content-Type"] = "application/json" }
function request()
  local r = math.random()
  if r < ${MIX.page} then return wrk.format("GET", "/") end
  if r < ${
    MIX.page + MIX.buy
  } then return wrk.format("POST", "/orders", headers, bodies[math.random(#bodies)]) end
  if spread > 0 and math.random() < 0.5 then
    return wrk.format("GET", string.format("${spread?.luaFormat ?? ""}", math.random(spread)))
  end
  return wrk.format("GET", reads[math.random(#reads)])
end`,
});

const dir = mkdtempSync(path.join(tmpdir(), "bazaar-bench-"));
let scripts = 0;

/**
 * Runs wrk for `seconds`, or until `stop` is aborted (wrk ends early on SIGINT and
 * still reports what it counted).
 *
 * @example const r = await wrk("http://127.0.0.1:61080", { connections: 32, seconds: 8 });
 */
export async function wrk(
  url: string,
  opts: {
    connections: number;
    seconds: number;
    script?: Script;
    headers?: Record<string, string>;
    stop?: AbortSignal;
  },
): Promise<WrkResult> {
  const file = path.join(dir, `s${++scripts}.lua`);
  writeFileSync(file, `${opts.script?.lua ?? ""}\n${COUNTING}`);
  const threads = Math.min(2, opts.connections);
  const args = [
    "wrk",
    "-t",
    String(threads),
    "-c",
    String(opts.connections),
    "-d",
    `${opts.seconds}s`,
    "--timeout",
    "5s",
    "-s",
    file,
  ];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}: ${v}`);
  args.push(url);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  if (opts.stop?.aborted) proc.kill("SIGINT");
  else opts.stop?.addEventListener("abort", () => proc.kill("SIGINT"), { once: true });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const line = out.split("\n").find((l) => l.startsWith("BENCH "));
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${err.trim() || out.trim()}`);
  const r = JSON.parse(line.slice(6)) as {
    requests: number;
    duration_us: number;
    socket: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    statuses: Record<string, number>;
  };
  const ok = opts.script?.ok ?? ((s: number) => s >= 200 && s < 400);
  const badStatuses = Object.entries(r.statuses).filter(([s]) => !ok(Number(s))).reduce(
    (n, [, c]) => n + c,
    0,
  );
  const seconds = r.duration_us / 1e6;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    connections: opts.connections,
    seconds,
    requests: r.requests,
    rps: r.requests / seconds,
    p50: ms(r.p50),
    p90: ms(r.p90),
    p99: ms(r.p99),
    max: ms(r.max),
    statuses: r.statuses,
    errors: badStatuses + r.socket,
    socketErrors: r.socket,
  };
}
