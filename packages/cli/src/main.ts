#!/usr/bin/env node
import type { Command, Io } from "./cli/command.js";
import { ExitCode, exitCodeOf, UsageError } from "./cli/exit-codes.js";
import { describeError } from "./cli/task-output.js";
import { batchCommand } from "./commands/batch-command.js";
import { TaskNotCompletedError } from "./commands/generate.js";
import { generateCommand } from "./commands/generate-command.js";
import { deadLettersCommand, keysCmd, upCommand, usageCommand } from "./commands/operator-commands.js";
import { cancelCommand, deleteCommand, getCommand, listCommand, watchCommand } from "./commands/task-commands.js";

const COMMANDS: Command[] = [
  generateCommand,
  getCommand,
  listCommand,
  watchCommand,
  cancelCommand,
  deleteCommand,
  batchCommand,
  upCommand,
  keysCmd,
  usageCommand,
  deadLettersCommand,
];

const USAGE = `usage: t2v <command> [options]     t2v <command> --help for its options

${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join("\n")}

environment: T2V_SERVER (default http://127.0.0.1:8080), T2V_API_KEY (default: the key 'up' saved in DATA_DIR),
             PORT, NATS_URL, DATA_DIR, MODEL_DIR
exit codes:  0 ok, 1 error (unreachable, unavailable, I/O), 2 usage, 3 API key refused,
             4 request refused (invalid, not found, limits), 5 task failed or cancelled (batch: any line),
             6 --timeout passed, 78 an environment variable the schema refuses (src/config.ts)`;

const io: Io = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  stderrIsTTY: process.stderr.isTTY === true,
};

/** --help / -h anywhere before a "--" separator. */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(`${USAGE}\n`);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`t2v: unknown command "${name}"\n${USAGE}\n`);
    return ExitCode.usage;
  }
  if (wantsHelp(rest)) {
    io.stdout(`${command.help}\n`);
    return ExitCode.ok;
  }
  const json = rest.includes("--json");
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.stderr(`t2v ${name}: ${(err as Error).message}\n\n${command.help}\n`);
      return ExitCode.usage;
    }
    if (err instanceof TaskNotCompletedError) {
      io.stderr(json ? describeError(err, true) : `t2v: ${err.message}\n`);
      return ExitCode.taskFailed;
    }
    io.stderr(describeError(err, json));
    return exitCodeOf(err);
  }
}

/** node:util parseArgs rejects unknown options and missing values with these codes. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

const argv = process.argv.slice(2);
process.exitCode = await main(argv);
// A client command is done: idle keep-alive connections (HTTP/2 sessions)
// must not hold the exit up. `up` keeps running its mesh.
if (argv[0] !== "up") setTimeout(() => process.exit(), 2_000).unref();
