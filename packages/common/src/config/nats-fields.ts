import { readFileSync } from "node:fs";
import { type Field, int } from "./config.js";

/** How a client proves who it is to NATS: at most one of a credentials file, a token, or a user and password. */
export interface NatsAccess {
  natsCreds: string;
  natsToken: string;
  natsUser: string;
  natsPassword: string;
}

const ACCESS_VARS = ["NATS_CREDS", "NATS_TOKEN", "NATS_USER"] as const;

/** Several ways to authenticate set at once would leave the choice to the client library; refuse it. */
function oneAccess(own: (typeof ACCESS_VARS)[number], env: ((name: string) => string | undefined) | undefined): void {
  const others = ACCESS_VARS.filter((v) => v !== own && env?.(v) !== undefined);
  if (others.length > 0)
    throw new Error(`set only one of NATS_CREDS, NATS_TOKEN, NATS_USER (also set: ${others.join(", ")})`);
}

/** 1, or 3 on a three-node JetStream cluster: the replica counts the mesh is tested with. */
function replicas(env: string, doc: string): Field<1 | 3> {
  return {
    env,
    doc,
    default: "1",
    parse(raw) {
      if (raw === undefined || raw === "1") return 1;
      if (raw === "3") return 3;
      throw new Error(`"${raw}" is not 1 or 3`);
    },
  };
}

/** A `.creds` file (user JWT and NKey seed, as `nsc` writes it), read at start so a bad path stops the process. */
function credsFile(env: string, doc: string): Field<string> {
  return {
    env,
    doc,
    default: "",
    parse(raw, other) {
      if (raw === undefined) return "";
      oneAccess("NATS_CREDS", other);
      let text: string;
      try {
        text = readFileSync(raw, "utf8");
      } catch (err) {
        throw new Error(`cannot read ${raw}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) {
        throw new Error(`${raw} is not a NATS credentials file (user JWT and NKey seed)`);
      }
      return raw;
    },
  };
}

function token(env: string, doc: string): Field<string> {
  return {
    env,
    doc,
    default: "",
    parse(raw, other) {
      if (raw === undefined) return "";
      oneAccess("NATS_TOKEN", other);
      return raw;
    },
  };
}

/** One of a pair that is only valid together (NATS_USER and NATS_PASSWORD). */
function paired(env: string, doc: string, partner: string): Field<string> {
  return {
    env,
    doc,
    default: "",
    parse(raw, other) {
      const partnerSet = other?.(partner) !== undefined;
      if (raw === undefined) {
        if (partnerSet) throw new Error(`is required with ${partner}`);
        return "";
      }
      if (env === "NATS_USER") oneAccess("NATS_USER", other);
      if (!partnerSet) throw new Error(`needs ${partner} as well`);
      return raw;
    },
  };
}

/** How every service reaches NATS, besides NATS_URL. */
export const natsFields = {
  natsReplicas: replicas(
    "NATS_REPLICAS",
    "replicas of every stream, KV bucket and object store the mesh creates: 1, or 3 on a three-node JetStream cluster (set when they are first created)",
  ),
  natsCreds: credsFile("NATS_CREDS", "NATS credentials file (user JWT and NKey seed) to connect with"),
  natsToken: token("NATS_TOKEN", "NATS authentication token to connect with"),
  natsUser: paired("NATS_USER", "NATS user to connect as (with NATS_PASSWORD)", "NATS_PASSWORD"),
  natsPassword: paired("NATS_PASSWORD", "password of NATS_USER", "NATS_USER"),
  // JetStream reserves a store's limit when it creates the store: media can never fill the space
  // that task state needs, and a full store refuses new objects (a failed, retried write) rather
  // than drop old ones. The sum must fit JetStream's storage (max_file_store; 75% of the free disk
  // by default), or the store is not created and the service stops with a clear message.
  latentsStoreMaxGb: int(
    "LATENTS_STORE_MAX_GB",
    "size limit of t2v_latents (latents between denoise and encode), GiB",
    2,
    1,
    100_000,
  ),
  checkpointsStoreMaxGb: int(
    "CHECKPOINTS_STORE_MAX_GB",
    "size limit of t2v_checkpoints (denoising checkpoints), GiB",
    2,
    1,
    100_000,
  ),
  videosStoreMaxGb: int(
    "VIDEOS_STORE_MAX_GB",
    "size limit of t2v_videos (finished MP4s and posters, when RESULT_STORE=nats), GiB",
    16,
    1,
    100_000,
  ),
};

/** Everything a client needs to reach the mesh's NATS: NATS_URL and the fields above. */
export type NatsSettings = { natsUrl: string; natsReplicas: number } & NatsAccess;
