// Entry point of `bun run client -- [options]`; see cli.ts and README.md.
import { cli } from "./cli.ts";

process.exitCode = await cli(process.argv.slice(2));
