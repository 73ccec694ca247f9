import type { ExitCodeValue } from "./exit-codes.js";

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stderrIsTTY: boolean;
}

/** One `t2v <name>` command: its help is printed for --help and with every usage error. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(args: string[], io: Io): Promise<ExitCodeValue>;
}
