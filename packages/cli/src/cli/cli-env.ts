import { type ConfigOf, readConfigOrExit } from "@t2v/common/config";
import { cliConfig } from "../config.js";

let env: ConfigOf<typeof cliConfig> | undefined;

/**
 * The environment the CLI reads, through its schema, once. Read on first use
 * rather than at start so `--help` works whatever the environment holds; a
 * value the schema refuses exits 78, as the services do.
 */
export function cliEnv(): ConfigOf<typeof cliConfig> {
  env ??= readConfigOrExit("t2v", cliConfig);
  return env;
}
