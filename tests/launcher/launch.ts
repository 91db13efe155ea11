// What the tests that run `bun run local` as a user runs it share (tests/launcher/,
// tests/system/names.test.ts): ports and a data dir of their own, the environment
// that points the launcher at them, and the launcher's output collected as it comes.
import type { Subprocess } from "bun";
import {
  dbLayout,
  portEnv,
  type PortName,
  type Ports,
  REPO_ROOT,
  socketUser,
} from "../../local/src/index.ts";

/** This process's environment, with the launcher pointed at `dataDir` and `ports`. */
export function launcherEnv(
  dataDir: string,
  ports: Ports,
  extra: Record<string, string>,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    STORE_DATA_DIR: dataDir,
    NO_COLOR: "1",
    ...extra,
  };
  for (const [name, port] of Object.entries(ports) as [PortName, number][]) env[portEnv(name)] = String(port);
  return env;
}

export type Spawned = {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** stdout and stderr so far. */
  output: () => string;
  /** Settles once both streams have ended. */
  pumped: Promise<unknown>;
};

/** Starts `cmd` in the repository with `env`, collecting its stdout and stderr as text. */
export function spawnCollecting(cmd: string[], env: Record<string, string | undefined>): Spawned {
  const proc = Bun.spawn(cmd, { cwd: REPO_ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let text = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of s) text += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  return { proc, output: () => text, pumped };
}

/** Waits for the launcher's "stack is up" banner; fails if it exits first or takes longer than `ms`. */
export async function untilUp(run: Pick<Spawned, "proc" | "output">, ms: number) {
  const deadline = Date.now() + ms;
  while (!run.output().includes("Ctrl-C stops everything")) {
    if (run.proc.exitCode !== null) {
      throw new Error(`bun run local exited ${run.proc.exitCode}:\n${run.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`bun run local did not come up:\n${run.output()}`);
    await Bun.sleep(100);
  }
}

/** SQL as root over the socket of the stack in `dataDir`, as an operator would run it: its rows, tab-separated. */
export async function rootSql(dataDir: string, sql: string) {
  const p = Bun.spawn([
    "mariadb",
    "--no-defaults",
    `--socket=${dbLayout(dataDir).socket}`,
    `--user=${socketUser()}`,
    "--batch",
    "--skip-column-names",
    "-e",
    sql,
  ], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`mariadb: ${err}`);
  return out.trim();
}
