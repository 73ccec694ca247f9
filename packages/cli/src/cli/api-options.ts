import { createNodeClient, type NodeProtocol, type T2vClient } from "@t2v/client/node";
import { savedDevKey } from "../commands/keys-dev.js";
import { defaultDataDir } from "../mesh/paths.js";
import { cliEnv } from "./cli-env.js";
import { UsageError } from "./exit-codes.js";

/** Options every command that talks to the gateway takes (parseArgs shape). */
export const API_OPTIONS = {
  server: { type: "string" },
  "api-key": { type: "string" },
  protocol: { type: "string", default: "connect" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

export const API_OPTIONS_HELP = `  --server URL          gateway (env T2V_SERVER; default http://127.0.0.1:$PORT or :8080)
  --api-key KEY         API key (env T2V_API_KEY; default: the development key 't2v up' saved)
  --protocol P          connect (default), grpc or grpc-web
  --json                machine-readable output on stdout (errors as JSON on stderr)
  -h, --help            this help`;

export interface ApiValues {
  server?: string | undefined;
  "api-key"?: string | undefined;
  protocol?: string | undefined;
}

export function serverOf(v: ApiValues): string {
  const env = cliEnv();
  return v.server ?? (env.server || `http://127.0.0.1:${env.port}`);
}

/** --api-key, else T2V_API_KEY, else the development key `t2v up` saved. */
export function apiKeyOf(v: ApiValues): string {
  const env = cliEnv();
  return v["api-key"] ?? (env.apiKey || savedDevKey(env.dataDir || defaultDataDir())) ?? "";
}

export function protocolOf(v: ApiValues): NodeProtocol {
  const p = v.protocol ?? "connect";
  if (p !== "connect" && p !== "grpc" && p !== "grpc-web") {
    throw new UsageError(`--protocol must be connect, grpc or grpc-web, not "${p}"`);
  }
  return p;
}

export function clientOf(v: ApiValues): T2vClient {
  return createNodeClient({ baseUrl: serverOf(v), apiKey: apiKeyOf(v), protocol: protocolOf(v) });
}

/** A number option, or undefined when not given. */
export function numberOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, not "${v}"`);
  return n;
}
