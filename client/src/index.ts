// The programmatic interface, for system tests and the benchmark.
export { runClient, type RunControl, runResolved } from "./run.ts";
export { type ClientInput, type ClientOptions, OptionsError, parseCli, resolveOptions } from "./options.ts";
export { formatJson, formatText, type KindReport, type Report } from "./report.ts";
export { KNOWN_TOYS, type Mismatch, type PlacedOrder, UNKNOWN_TOYS } from "./session.ts";
