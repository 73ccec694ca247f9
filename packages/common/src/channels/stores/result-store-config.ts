import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { type ConfigOf, type Field, int, oneOf, readConfig } from "../../config/config.js";

/** Where finished videos and posters live. */
export type ResultStoreTarget =
  | { readonly kind: "nats" }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string };

/**
 * `nats` (or unset) or `s3://<bucket>/<prefix>`. Bucket names follow S3's general-purpose rules (3-63
 * characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit,
 * not shaped like an IP address), which MinIO, R2 and OSS also enforce; checking them here turns a typo into a
 * start-up error instead of a signature or DNS failure at the first upload.
 */
export function parseResultStore(raw: string | undefined): ResultStoreTarget {
  if (raw === undefined || raw === "nats") return { kind: "nats" };
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(raw);
  if (!m) throw new Error(`"${raw}" is neither "nats" nor s3://<bucket>/<prefix>`);
  const [, scheme = "", rest = ""] = m;
  if (scheme.toLowerCase() !== "s3") throw new Error(`scheme "${scheme}://" is not supported: use nats or s3://`);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  if (bucket === "") throw new Error(`"${raw}" names no bucket: use s3://<bucket>/<prefix>`);
  const bad = bucketNameProblem(bucket);
  if (bad) throw new Error(`bucket "${bucket}" ${bad}`);
  if (/[?#]/.test(path)) throw new Error(`prefix "${path}" must not contain ? or #`);
  if (path.split("/").some((seg, i, all) => seg === "" && i < all.length - 1)) {
    throw new Error(`prefix "${path}" has an empty path segment (//)`);
  }
  const prefix = path === "" || path.endsWith("/") ? path : `${path}/`;
  return { kind: "s3", bucket, prefix };
}

function bucketNameProblem(b: string): string | null {
  if (b.length < 3 || b.length > 63) return "must be 3 to 63 characters long";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(b)) {
    return "may contain only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit";
  }
  if (b.includes("..")) return "must not contain two adjacent dots";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(b)) return "must not be formatted as an IP address";
  return null;
}

function bool(env: string, doc: string, def: boolean): Field<boolean> {
  return {
    env,
    doc,
    parse(raw) {
      if (raw === undefined) return def;
      const v = raw.toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      throw new Error(`"${raw}" is not a boolean (true/false, 1/0, yes/no, on/off)`);
    },
  };
}

/** Unset leaves the SDK's own choice (AWS_MAX_ATTEMPTS, else 3). */
function optionalInt(env: string, doc: string, min: number, max: number): Field<number | undefined> {
  return {
    env,
    doc,
    parse(raw) {
      if (raw === undefined) return undefined;
      if (!/^\d+$/.test(raw)) throw new Error(`"${raw}" is not an integer`);
      const n = Number(raw);
      if (n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
      return n;
    },
  };
}

function optionalUrl(env: string, doc: string): Field<string | undefined> {
  return {
    env,
    doc,
    parse(raw) {
      if (raw === undefined) return undefined;
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new Error(`"${raw}" is not a URL`);
      }
      if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`"${raw}" must be http:// or https://`);
      if (u.search !== "" || u.hash !== "") throw new Error(`"${raw}" must not have a query or fragment`);
      return raw;
    },
  };
}

export const resultStoreFields = {
  resultStore: {
    env: "RESULT_STORE",
    doc: "where finished videos and posters go: `nats` (JetStream Object Store) or `s3://<bucket>/<prefix>`",
    default: "nats",
    parse: parseResultStore,
  } satisfies Field<ResultStoreTarget>,
  s3ForcePathStyle: bool(
    "S3_FORCE_PATH_STYLE",
    "address the bucket as a path (`http://host/bucket/key`) instead of a host name: MinIO and other self-hosted servers",
    false,
  ),
  s3MaxAttempts: optionalInt(
    "S3_MAX_ATTEMPTS",
    "tries per S3 request with the SDK's retry strategy (backoff, throttling); unset: AWS_MAX_ATTEMPTS or 3",
    1,
    20,
  ),
  s3IdleTimeoutMs: int(
    "S3_IDLE_TIMEOUT_MS",
    "an S3 connection silent this long is cut and the request retried (the SDK waits forever by default)",
    60_000,
    1_000,
    600_000,
  ),
  s3LinkEndpointUrl: optionalUrl(
    "S3_LINK_ENDPOINT_URL",
    "endpoint that presigned result_url / poster_url links name, when clients reach the store by another address than the services (unset: the SDK's endpoint)",
  ),
  s3Checksum: oneOf(
    "S3_CHECKSUM",
    "`sha256` sends x-amz-checksum-sha256 with every upload request; `off` for servers that refuse it (verification then reads the object back)",
    "sha256",
    ["sha256", "off"],
  ),
};

export type ResultStoreConfig = ConfigOf<typeof resultStoreFields>;

/**
 * Only what the SDK has no variable of its own for. Everything else (AWS_ENDPOINT_URL_S3, then
 * AWS_ENDPOINT_URL; AWS_REGION; credentials from the environment, shared files, SSO, web identity, ECS or
 * instance metadata; AWS_MAX_ATTEMPTS; AWS_REQUEST_CHECKSUM_CALCULATION) the SDK resolves itself from
 * process.env and ~/.aws: verified in @aws-sdk/client-s3 3.1175 (@smithy/core's getEndpointUrlConfig).
 */
export function s3ClientConfig(
  cfg: Pick<ResultStoreConfig, "s3ForcePathStyle" | "s3MaxAttempts" | "s3IdleTimeoutMs">,
): S3ClientConfig {
  return {
    forcePathStyle: cfg.s3ForcePathStyle,
    ...(cfg.s3MaxAttempts !== undefined ? { maxAttempts: cfg.s3MaxAttempts } : {}),
    // Without these a server that accepts a connection and then goes silent holds an upload (and the encode
    // attempt) forever; a cut connection is an ordinary retryable error to the SDK.
    requestHandler: { connectionTimeout: Math.min(10_000, cfg.s3IdleTimeoutMs), socketTimeout: cfg.s3IdleTimeoutMs },
  };
}

/**
 * An S3 client for the result store. `env` is read for our S3_* variables (a bad value throws ConfigError);
 * the SDK reads AWS_* from process.env itself, so pass process.env in services.
 */
export function createS3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const cfg = readConfig(
    {
      s3ForcePathStyle: resultStoreFields.s3ForcePathStyle,
      s3MaxAttempts: resultStoreFields.s3MaxAttempts,
      s3IdleTimeoutMs: resultStoreFields.s3IdleTimeoutMs,
    },
    env,
  );
  return new S3Client(s3ClientConfig(cfg));
}

/**
 * The client that signs download links when S3_LINK_ENDPOINT_URL is set (same credentials, region and path
 * style as the upload client; only the endpoint differs); undefined when links use the upload endpoint.
 */
export function createS3LinkClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client | undefined {
  const cfg = readConfig(
    {
      s3ForcePathStyle: resultStoreFields.s3ForcePathStyle,
      s3LinkEndpointUrl: resultStoreFields.s3LinkEndpointUrl,
    },
    env,
  );
  if (cfg.s3LinkEndpointUrl === undefined) return undefined;
  return new S3Client({ forcePathStyle: cfg.s3ForcePathStyle, endpoint: cfg.s3LinkEndpointUrl });
}
