import * as v from "valibot";
import { port, ServerEnv, text } from "@bazaar/lib/config.ts";

/** The names SRH uses (SRH_MODE=env), so compose and the local stack share them. */
export const BridgeEnv = {
  ...ServerEnv,
  PORT: port(8079),
  SRH_TOKEN: text(),
  SRH_CONNECTION_STRING: v.pipe(
    text("redis://127.0.0.1:6379"),
    v.regex(/^rediss?:\/\/[^\s]+$/, "must be a redis:// or rediss:// URL"),
  ),
};
