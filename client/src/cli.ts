// The command line: options in, report out, exit status by the result.
import { parseCli, USAGE } from "./options.ts";
import { formatJson, formatText } from "./report.ts";
import { runResolved } from "./run.ts";

type Out = { write(s: string): unknown };

/** Runs the CLI; resolves to the exit status (0 ok, 1 failed run, 2 bad options). */
export async function cli(
  argv: readonly string[],
  stdout: Out = process.stdout,
  stderr: Out = process.stderr,
): Promise<number> {
  const parsed = parseCli(argv);
  if (parsed.kind === "help") {
    stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === "error") {
    stderr.write(
      `client: ${parsed.message.replaceAll("\n", "\nclient: ")}\nRun with --help for the options.\n`,
    );
    return 2;
  }
  // First Ctrl-C: stop starting iterations, still check orders and report.
  // A second one gives up at once.
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    stderr.write("\nstopping: finishing current requests and checking orders (Ctrl-C again to quit)\n");
    abort.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    const report = await runResolved(parsed.options, { signal: abort.signal });
    stdout.write(`${parsed.options.json ? formatJson(report) : formatText(report)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
