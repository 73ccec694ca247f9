import { natsFields } from "./nats-fields.js";

export { type NatsAccess, type NatsSettings, natsFields } from "./nats-fields.js";

/**
 * Environment configuration, read once at start-up. Each field names its
 * variable, default and format; every problem is reported at once, and a bad
 * value stops the process with a message that names the variable.
 */
export interface Field<T> {
  readonly env: string;
  readonly doc: string;
  /** The default as the configuration table shows it; absent when the variable is required or has none to show. */
  readonly default?: string;
  /** `env` reads another variable (blank as unset), for a field that is only valid together with others. */
  parse(raw: string | undefined, env?: (name: string) => string | undefined): T;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Values<S> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/** Rules between fields, once each is valid on its own: one message per problem, naming the variables. */
export type ConfigCheck<S> = (values: Values<S>) => string[];

export function readConfig<S extends Record<string, Field<unknown>>>(
  fields: S,
  env: NodeJS.ProcessEnv = process.env,
  check?: ConfigCheck<S>,
): Values<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  const other = (name: string): string | undefined => blankToUndefined(env[name]);
  for (const [key, field] of Object.entries(fields)) {
    try {
      out[key] = field.parse(blankToUndefined(env[field.env]), other);
    } catch (err) {
      problems.push(`${field.env}: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0 && check) problems.push(...check(out as Values<S>));
  if (problems.length > 0) throw new ConfigError(problems);
  return out as Values<S>;
}

/** Reads the configuration or exits with status 78 (EX_CONFIG) and a clear message. */
export function readConfigOrExit<S extends Record<string, Field<unknown>>>(
  service: string,
  fields: S,
  env: NodeJS.ProcessEnv = process.env,
  check?: ConfigCheck<S>,
): Values<S> {
  try {
    return readConfig(fields, env, check);
  } catch (err) {
    process.stderr.write(`${service}: ${(err as Error).message}\n`);
    process.exit(78);
  }
}

function blankToUndefined(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

export function str(env: string, doc: string, def?: string): Field<string> {
  return {
    env,
    doc,
    ...(def !== undefined ? { default: def } : {}),
    parse(raw) {
      if (raw !== undefined) return raw;
      if (def === undefined) throw new Error("is required");
      return def;
    },
  };
}

export function int(env: string, doc: string, def: number, min: number, max: number): Field<number> {
  return {
    env,
    doc,
    default: String(def),
    parse(raw) {
      if (raw === undefined) return def;
      if (!/^-?\d+$/.test(raw)) throw new Error(`"${raw}" is not an integer`);
      const n = Number(raw);
      if (n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
      return n;
    },
  };
}

export function oneOf<const T extends string>(env: string, doc: string, def: T, allowed: readonly T[]): Field<T> {
  return {
    env,
    doc,
    default: def,
    parse(raw) {
      if (raw === undefined) return def;
      const found = allowed.find((a) => a === raw);
      if (found === undefined) throw new Error(`"${raw}" is not one of ${allowed.join(", ")}`);
      return found;
    },
  };
}

export function natsUrl(env: string, doc: string, def: string): Field<string> {
  return {
    env,
    doc,
    default: def,
    parse(raw) {
      const parts = (raw ?? def).split(",").map((p) => p.trim());
      for (const part of parts) {
        if (part === "") throw new Error("has an empty server between commas");
        let u: URL;
        try {
          u = new URL(part.includes("://") ? part : `nats://${part}`);
        } catch {
          throw new Error(`"${part}" is not a URL`);
        }
        if (!["nats:", "tls:", "ws:", "wss:"].includes(u.protocol)) throw new Error(`"${part}" must use nats://`);
      }
      return parts.join(",");
    },
  };
}

export function list(env: string, doc: string, def: string[], allowed?: readonly string[]): Field<string[]> {
  return {
    env,
    doc,
    default: def.join(","),
    parse(raw) {
      if (raw === undefined) return def;
      const items = raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      if (items.length === 0) throw new Error("must list at least one value");
      const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
      if (bad.length > 0) throw new Error(`${bad.join(", ")} not one of ${allowed?.join(", ")}`);
      return items;
    },
  };
}

/** A switch: `1`/`true` or `0`/`false` (any case). */
export function bool(env: string, doc: string, def: boolean): Field<boolean> {
  return {
    env,
    doc,
    default: def ? "1" : "0",
    parse(raw) {
      if (raw === undefined) return def;
      const v = raw.toLowerCase();
      if (v === "1" || v === "true") return true;
      if (v === "0" || v === "false") return false;
      throw new Error(`"${raw}" is not one of 0, 1, true, false`);
    },
  };
}

/** The configuration a schema reads, field by field. */
export type ConfigOf<S> = Values<S>;

/** Read by every service's instrumentation, before anything else. */
export const opsFields = {
  metricsPort: int(
    "METRICS_PORT",
    "port of `/metrics` (Prometheus), `/healthz` and `/readyz`; 0 turns them off (under `npm start`: METRICS_PORT_BASE and the next three)",
    0,
    0,
    65535,
  ),
  metricsHost: str("METRICS_HOST", "listen address of METRICS_PORT", "0.0.0.0"),
};

/** Fields every service reads. */
export const commonFields = {
  natsUrl: natsUrl(
    "NATS_URL",
    "NATS server(s), comma-separated: on a JetStream cluster list every node; a client fails over between them. `npm start` starts a local nats-server when none answers",
    "nats://127.0.0.1:4222",
  ),
  ...natsFields,
  logLevel: oneOf("LOG_LEVEL", "pino log level", "info", [
    "fatal",
    "error",
    "warn",
    "info",
    "debug",
    "trace",
    "silent",
  ]),
};
