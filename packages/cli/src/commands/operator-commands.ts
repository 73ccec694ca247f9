import { join } from "node:path";
import { parseArgs } from "node:util";
import type { NatsSettings } from "@t2v/common/config";
import { cliEnv } from "../cli/cli-env.js";
import type { Command } from "../cli/command.js";
import { ExitCode, UsageError } from "../cli/exit-codes.js";
import { operatorNats } from "../mesh/local-nats-users.js";
import { defaultDataDir } from "../mesh/paths.js";
import { keysCommand } from "./keys.js";
import { deadLettersReport, usageReport } from "./operator-reports.js";
import { up } from "./up.js";

const HELP_OPTION = { help: { type: "boolean", short: "h", default: false } } as const;

/** NATS_URL and the other NATS settings, as the services read them (admin of a local `t2v up` by default). */
function nats(): NatsSettings {
  const env = cliEnv();
  return operatorNats(env, env.dataDir || defaultDataDir());
}

export const upCommand: Command = {
  name: "up",
  summary: "run the whole mesh locally (what 'npm start' does)",
  help: `usage: t2v up [--demo] [--raw-logs]

Starts nats-server (when none answers at NATS_URL), the four services and the
web console on http://127.0.0.1:$PORT/, creates a development key, and keeps
running until Ctrl-C.

  --demo                also generate .data/demo.mp4
  --raw-logs            pass the services' JSON log lines through
environment: PORT, NATS_URL, DATA_DIR, MODEL_DIR, LOG_FORMAT=json`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...HELP_OPTION,
        demo: { type: "boolean", default: false },
        "raw-logs": { type: "boolean", default: false },
      },
    });
    const env = cliEnv();
    const dataDir = env.dataDir || defaultDataDir();
    await up({
      port: env.port,
      nats: env,
      dataDir,
      modelDir: env.modelDir || join(dataDir, "models", "wan-tiny"),
      rawLogs: values["raw-logs"] || env.logFormat === "json",
      demo: values.demo,
      metricsPortBase: env.metricsPortBase,
    });
    return ExitCode.ok;
  },
};

export const keysCmd: Command = {
  name: "keys",
  summary: "manage API keys (against NATS_URL)",
  help: `usage:
  t2v keys create --tenant NAME [--tier vip|standard|batch] [--name LABEL]   the key is the last line
  t2v keys list
  t2v keys revoke PREFIX|KEY`,
  async run(args) {
    await keysCommand(args, (message) => {
      throw new UsageError(message);
    });
    return ExitCode.ok;
  },
};

export const usageCommand: Command = {
  name: "usage",
  summary: "billing audit of a tenant's completed tasks",
  help: `usage: t2v usage --tenant NAME [--since YYYY-MM-DD] [--until YYYY-MM-DD]

until is exclusive; the default window is the last 30 days.`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { ...HELP_OPTION, tenant: { type: "string" }, since: { type: "string" }, until: { type: "string" } },
    });
    if (!values.tenant) throw new UsageError("--tenant is required");
    const day = (name: string, v: string | undefined, def: Date): Date => {
      const d = v === undefined ? def : new Date(`${v}T00:00:00Z`);
      if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} must be a date like 2026-11-01, not "${v}"`);
      return d;
    };
    const since = day("since", values.since, new Date(Date.now() - 30 * 86_400_000));
    const until = day("until", values.until, new Date(Date.now() + 86_400_000));
    await usageReport(nats(), { tenant: values.tenant, since, until }, { write: (s: string) => io.stdout(s) });
    return ExitCode.ok;
  },
};

export const deadLettersCommand: Command = {
  name: "dead-letters",
  summary: "tasks that failed for good",
  help: "usage: t2v dead-letters",
  async run(args, io) {
    parseArgs({ args, options: HELP_OPTION });
    await deadLettersReport(nats(), { write: (s: string) => io.stdout(s) });
    return ExitCode.ok;
  },
};
