// The bench's own local stack: every port the design's plus 40,000 (store 48080),
// data in .local/bench, fresh each time. Ports in 32768–60999 are also the kernel's
// ephemeral range, so a busy machine's outgoing connection can hold one for a moment
// (EADDRINUSE at bind): the start is retried a few times before giving up.
import { type Ports, type Stack, type StackOptions, startStack } from "../../local/src/stack.ts";

export const OFFSET = 40000;
export const PORTS: Ports = {
  store: 48080,
  stats: 48404,
  db: 43306,
  redis: 46379,
  cache: 48079,
  api: 45003,
  adminApi: 45002,
  web1: 48083,
  web2: 48084,
  admin1: 48081,
  admin2: 48082,
};

export async function startBenchStack(
  options: Partial<StackOptions> = {},
  log = (s: string) => process.stderr.write(`${s}\n`),
): Promise<Stack> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startStack({
        ports: PORTS,
        dataDir: ".local/bench",
        fresh: true,
        quiet: true,
        ...options,
      });
    } catch (err) {
      const message = (err as Error).message;
      if (attempt >= 5 || !/in use/i.test(message)) throw err;
      log(
        `a port was taken (${message.split("\n").find((l) => /in use/i.test(l))?.trim()}); retrying in ${
          attempt * 5
        } s…`,
      );
      await Bun.sleep(attempt * 5000);
    }
  }
}
