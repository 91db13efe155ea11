// The programmatic interface, for system tests and the benchmark.
export { runClient, runResolved, type RunControl } from "./run.ts";
export { resolveOptions, parseCli, OptionsError, type ClientInput, type ClientOptions } from "./options.ts";
export { formatJson, formatText, type Report, type KindReport } from "./report.ts";
export { KNOWN_TOYS, UNKNOWN_TOYS, type PlacedOrder, type Mismatch } from "./session.ts";
