#!/usr/bin/env node
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readConfigOrExit } from "@t2v/common/config";
import { generate } from "./commands/generate.js";
import { keysCommand } from "./commands/keys.js";
import { savedDevKey } from "./commands/keys-dev.js";
import { deadLettersReport, usageReport } from "./commands/operator-reports.js";
import { up } from "./commands/up.js";
import { cliConfig } from "./config.js";
import { defaultDataDir } from "./mesh/paths.js";

const USAGE = `usage:
  t2v generate "<prompt>" [--duration S] [--resolution 480p|720p] [--seed N] [--frame-rate N]
               [--negative-prompt TEXT] [--style NAME] [--out FILE]
               [--server URL] [--protocol connect|grpc] [--api-key KEY]
  t2v up [--demo] [--raw-logs]      run the whole mesh locally (what 'npm start' does)
  t2v keys create --tenant NAME [--tier vip|standard|batch] [--name LABEL]
  t2v keys list
  t2v keys revoke PREFIX|KEY
  t2v usage --tenant NAME [--since YYYY-MM-DD] [--until YYYY-MM-DD]   billing audit (until is exclusive)
  t2v dead-letters                  tasks that failed for good

environment: T2V_SERVER (default http://127.0.0.1:8080), T2V_API_KEY (default: the key 'up' saved in DATA_DIR),
             PORT, NATS_URL, DATA_DIR, MODEL_DIR`;

function fail(message: string): never {
  process.stderr.write(`t2v: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) fail(`--${name} must be a number, not "${v}"`);
  return n;
}

const [command, ...rest] = process.argv.slice(2);
const env = readConfigOrExit("t2v", cliConfig);
const dataDir = env.dataDir || defaultDataDir();
try {
  if (command === "generate") {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        duration: { type: "string" },
        resolution: { type: "string" },
        seed: { type: "string" },
        "frame-rate": { type: "string" },
        "negative-prompt": { type: "string" },
        style: { type: "string" },
        out: { type: "string", short: "o" },
        server: { type: "string" },
        protocol: { type: "string", default: "connect" },
        "api-key": { type: "string" },
      },
    });
    const prompt = positionals.join(" ");
    if (prompt.trim() === "") fail("a prompt is required");
    const protocol = values.protocol;
    if (protocol !== "connect" && protocol !== "grpc") fail(`--protocol must be connect or grpc`);
    await generate(
      {
        server: values.server ?? (env.server || `http://127.0.0.1:${env.port}`),
        protocol,
        // --api-key, else T2V_API_KEY, else the development key `t2v up` saved.
        apiKey: values["api-key"] ?? (env.apiKey || savedDevKey(dataDir)) ?? "",
        prompt,
        ...(values.resolution !== undefined ? { resolution: values.resolution } : {}),
        ...(values["negative-prompt"] !== undefined ? { negativePrompt: values["negative-prompt"] } : {}),
        ...(values.style !== undefined ? { style: values.style } : {}),
        ...(values.out !== undefined ? { out: values.out } : {}),
        ...optionalNumber("duration", num("duration", values.duration)),
        ...optionalNumber("seed", num("seed", values.seed)),
        ...optionalNumber("frameRate", num("frame-rate", values["frame-rate"])),
      },
      { isTTY: process.stderr.isTTY === true, write: (s) => process.stderr.write(s) },
    );
  } else if (command === "up") {
    const { values } = parseArgs({
      args: rest,
      options: { demo: { type: "boolean", default: false }, "raw-logs": { type: "boolean", default: false } },
    });
    await up({
      port: env.port,
      natsUrl: env.natsUrl,
      dataDir,
      modelDir: env.modelDir || join(dataDir, "models", "wan-tiny"),
      rawLogs: values["raw-logs"] || env.logFormat === "json",
      demo: values.demo,
    });
  } else if (command === "keys") {
    await keysCommand(rest, fail);
  } else if (command === "usage") {
    const { values } = parseArgs({
      args: rest,
      options: { tenant: { type: "string" }, since: { type: "string" }, until: { type: "string" } },
    });
    if (!values.tenant) fail("--tenant is required");
    const day = (name: string, v: string | undefined, def: Date): Date => {
      const d = v === undefined ? def : new Date(`${v}T00:00:00Z`);
      if (Number.isNaN(d.getTime())) fail(`--${name} must be a date like 2026-11-01, not "${v}"`);
      return d;
    };
    const since = day("since", values.since, new Date(Date.now() - 30 * 86_400_000));
    const until = day("until", values.until, new Date(Date.now() + 86_400_000));
    await usageReport(env.natsUrl, { tenant: values.tenant, since, until }, process.stdout);
  } else if (command === "dead-letters") {
    await deadLettersReport(env.natsUrl, process.stdout);
  } else {
    fail(command ? `unknown command "${command}"` : "a command is required");
  }
} catch (err) {
  process.stderr.write(`\nt2v: ${(err as Error).message}\n`);
  process.exit(1);
}

function optionalNumber<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, number>);
}
