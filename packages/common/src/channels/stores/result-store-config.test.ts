import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, readConfig } from "../../config/config.js";
import {
  createS3ClientFromEnv,
  createS3LinkClientFromEnv,
  parseResultStore,
  resultStoreFields,
  s3ClientConfig,
} from "./result-store-config.js";

describe("RESULT_STORE", () => {
  it("defaults to the JetStream Object Store", () => {
    assert.deepEqual(parseResultStore(undefined), { kind: "nats" });
    assert.deepEqual(parseResultStore("nats"), { kind: "nats" });
  });

  it("reads s3://<bucket>/<prefix>, the prefix ending in one slash", () => {
    assert.deepEqual(parseResultStore("s3://t2v-results"), { kind: "s3", bucket: "t2v-results", prefix: "" });
    assert.deepEqual(parseResultStore("s3://t2v-results/"), { kind: "s3", bucket: "t2v-results", prefix: "" });
    assert.deepEqual(parseResultStore("s3://t2v.results/prod/videos"), {
      kind: "s3",
      bucket: "t2v.results",
      prefix: "prod/videos/",
    });
    assert.deepEqual(parseResultStore("S3://abc/x/"), { kind: "s3", bucket: "abc", prefix: "x/" });
  });

  it("refuses other schemes, a missing bucket and names S3 would refuse", () => {
    const bad: [string, RegExp][] = [
      ["gs://bucket/x", /scheme "gs:\/\/" is not supported/],
      ["https://bucket.s3.amazonaws.com/x", /scheme "https:\/\/"/],
      ["bucket/prefix", /neither "nats" nor s3:\/\//],
      ["s3://", /names no bucket/],
      ["s3:///prefix", /names no bucket/],
      ["s3://ab", /3 to 63 characters/],
      [`s3://${"a".repeat(64)}`, /3 to 63 characters/],
      ["s3://My_Bucket", /lowercase letters, digits, dots and hyphens/],
      ["s3://-bucket", /start and end with a letter or digit/],
      ["s3://a..b", /two adjacent dots/],
      ["s3://192.168.10.1", /IP address/],
      ["s3://bucket/a//b", /empty path segment/],
      ["s3://bucket/a?x=1", /must not contain \? or #/],
    ];
    for (const [raw, message] of bad) assert.throws(() => parseResultStore(raw), message, raw);
  });

  it("reports every bad S3 variable at once, naming it", () => {
    assert.throws(
      () =>
        readConfig(resultStoreFields, {
          RESULT_STORE: "s3://",
          S3_FORCE_PATH_STYLE: "maybe",
          S3_MAX_ATTEMPTS: "0",
          S3_CHECKSUM: "md5",
          S3_LINK_ENDPOINT_URL: "ftp://files.example.com",
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 5 &&
        ["RESULT_STORE", "S3_FORCE_PATH_STYLE", "S3_MAX_ATTEMPTS", "S3_LINK_ENDPOINT_URL", "S3_CHECKSUM"].every(
          (v, i) => err.problems[i]?.startsWith(`${v}: `),
        ),
    );
  });

  it("has defaults that leave the SDK its own choices", () => {
    assert.deepEqual(readConfig(resultStoreFields, {}), {
      resultStore: { kind: "nats" },
      s3ForcePathStyle: false,
      s3MaxAttempts: undefined,
      s3IdleTimeoutMs: 60_000,
      s3LinkEndpointUrl: undefined,
      s3Checksum: "sha256",
    });
    assert.deepEqual(s3ClientConfig({ s3ForcePathStyle: false, s3MaxAttempts: undefined, s3IdleTimeoutMs: 60_000 }), {
      forcePathStyle: false,
      requestHandler: { connectionTimeout: 10_000, socketTimeout: 60_000 },
    });
    assert.deepEqual(s3ClientConfig({ s3ForcePathStyle: true, s3MaxAttempts: 5, s3IdleTimeoutMs: 2_000 }), {
      forcePathStyle: true,
      maxAttempts: 5,
      requestHandler: { connectionTimeout: 2_000, socketTimeout: 2_000 },
    });
  });

  it("builds a client that takes path style and attempts from S3_*, the rest from the SDK", async () => {
    const c = createS3ClientFromEnv({ S3_FORCE_PATH_STYLE: "yes", S3_MAX_ATTEMPTS: "7" });
    try {
      assert.equal(c.config.forcePathStyle, true);
      assert.equal(await c.config.maxAttempts(), 7);
    } finally {
      c.destroy();
    }
    assert.throws(() => createS3ClientFromEnv({ S3_MAX_ATTEMPTS: "many" }), ConfigError);
    assert.equal(createS3LinkClientFromEnv({}), undefined);
    const link = createS3LinkClientFromEnv({ S3_LINK_ENDPOINT_URL: "https://media.example.com" });
    try {
      assert.equal((await link?.config.endpoint?.())?.hostname, "media.example.com");
    } finally {
      link?.destroy();
    }
  });
});
