import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  bool,
  ConfigError,
  commonFields,
  type Field,
  int,
  list,
  natsUrl,
  oneOf,
  opsFields,
  readConfig,
  str,
} from "./config.js";

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
};

describe("readConfig", () => {
  it("gives every default when nothing is set", () => {
    const c = readConfig({ ...commonFields, ...opsFields }, {});
    assert.deepEqual(c, {
      natsUrl: "nats://127.0.0.1:4222",
      natsReplicas: 1,
      natsCreds: "",
      natsToken: "",
      natsUser: "",
      natsPassword: "",
      latentsStoreMaxGb: 2,
      checkpointsStoreMaxGb: 2,
      videosStoreMaxGb: 16,
      logLevel: "info",
      metricsPort: 0,
      metricsHost: "0.0.0.0",
    });
  });

  it("reads set values, trimmed", () => {
    const c = readConfig(
      { port: int("PORT", "", 8080, 0, 65535), name: str("NAME", "", "x"), pools: list("POOLS", "", ["a"]) },
      { PORT: " 9000 ", NAME: " y ", POOLS: "a, b ,," },
    );
    assert.deepEqual(c, { port: 9000, name: "y", pools: ["a", "b"] });
  });

  it("treats a blank value as unset", () => {
    const c = readConfig(
      { port: int("PORT", "", 8080, 0, 65535), level: oneOf("LEVEL", "", "info", ["info", "debug"]) },
      { PORT: "", LEVEL: "   " },
    );
    assert.deepEqual(c, { port: 8080, level: "info" });
    assert.deepEqual(
      problemsOf(() => readConfig({ dir: str("DIR", "") }, { DIR: "  " })),
      ["DIR: is required"],
    );
  });

  it("reports every problem at once, each naming its variable", () => {
    const problems = problemsOf(() =>
      readConfig(
        {
          dir: str("MODEL_DIR", "required"),
          port: int("PORT", "", 8080, 0, 65535),
          level: oneOf("LOG_LEVEL", "", "info", ["info", "debug"]),
        },
        { PORT: "80a", LOG_LEVEL: "loud" },
      ),
    );
    assert.deepEqual(problems, [
      "MODEL_DIR: is required",
      'PORT: "80a" is not an integer',
      'LOG_LEVEL: "loud" is not one of info, debug',
    ]);
  });
});

describe("field kinds", () => {
  const one = <T>(f: Field<T>, raw: string) => problemsOf(() => readConfig({ f }, { [f.env]: raw }));

  it("int: integers inside the range", () => {
    const f = int("N", "", 5, 1, 10);
    assert.deepEqual(one(f, "1.5"), ['N: "1.5" is not an integer']);
    assert.deepEqual(one(f, "0"), ["N: 0 is outside 1..10"]);
    assert.deepEqual(one(f, "11"), ["N: 11 is outside 1..10"]);
    assert.equal(readConfig({ f }, { N: "10" }).f, 10);
  });

  it("oneOf: only the allowed values", () => {
    const f = oneOf("P", "", "fast", ["fast", "slow"]);
    assert.equal(readConfig({ f }, { P: "slow" }).f, "slow");
    assert.deepEqual(one(f, "FAST"), ['P: "FAST" is not one of fast, slow']);
  });

  it("list: at least one value, each allowed", () => {
    const f = list("L", "", ["cpu"], ["cuda", "cpu"]);
    assert.deepEqual(readConfig({ f }, { L: "cuda,cpu" }).f, ["cuda", "cpu"]);
    assert.deepEqual(one(f, ","), ["L: must list at least one value"]);
    assert.deepEqual(one(f, "cpu,tpu"), ["L: tpu not one of cuda, cpu"]);
  });

  it("natsUrl: nats URLs, comma-separated, scheme optional", () => {
    const f = natsUrl("U", "", "nats://127.0.0.1:4222");
    assert.equal(readConfig({ f }, { U: "a:4222,nats://b:4222" }).f, "a:4222,nats://b:4222");
    assert.deepEqual(one(f, "http://a:4222"), ['U: "http://a:4222" must use nats://']);
    assert.deepEqual(one(f, "nats://["), ['U: "nats://[" is not a URL']);
    assert.equal(readConfig({ f }, { U: "nats://a:1, nats://b:1" }).f, "nats://a:1,nats://b:1");
    assert.deepEqual(one(f, "nats://a:1,,nats://b:1"), ["U: has an empty server between commas"]);
  });

  it("bool: 0, 1, true, false in any case", () => {
    const f = bool("B", "", true);
    assert.equal(readConfig({ f }, {}).f, true);
    assert.equal(readConfig({ f }, { B: "FALSE" }).f, false);
    assert.equal(readConfig({ f }, { B: "1" }).f, true);
    assert.deepEqual(one(f, "yes"), ['B: "yes" is not one of 0, 1, true, false']);
  });

  it("each maker records its default for the configuration table", () => {
    assert.equal(int("A", "", 8080, 0, 65535).default, "8080");
    assert.equal(str("B", "", "x").default, "x");
    assert.equal(str("C", "").default, undefined);
    assert.equal(oneOf("D", "", "info", ["info"]).default, "info");
    assert.equal(list("E", "", ["cuda", "cpu"]).default, "cuda,cpu");
    assert.equal(natsUrl("F", "", "nats://h:1").default, "nats://h:1");
    assert.equal(bool("G", "", false).default, "0");
  });
});

describe("NATS settings", () => {
  const nats = (env: NodeJS.ProcessEnv) => readConfig(commonFields, env);
  const problems = (env: NodeJS.ProcessEnv) => problemsOf(() => nats(env));

  it("NATS_REPLICAS: 1 or 3", () => {
    assert.equal(nats({ NATS_REPLICAS: "3" }).natsReplicas, 3);
    assert.deepEqual(problems({ NATS_REPLICAS: "2" }), ['NATS_REPLICAS: "2" is not 1 or 3']);
  });

  it("NATS_USER and NATS_PASSWORD come together", () => {
    const c = nats({ NATS_USER: "svc", NATS_PASSWORD: "pw" });
    assert.deepEqual([c.natsUser, c.natsPassword], ["svc", "pw"]);
    assert.deepEqual(problems({ NATS_USER: "svc" }), [
      "NATS_USER: needs NATS_PASSWORD as well",
      "NATS_PASSWORD: is required with NATS_USER",
    ]);
  });

  it("one way to authenticate at a time", () => {
    assert.deepEqual(problems({ NATS_TOKEN: "t", NATS_USER: "u", NATS_PASSWORD: "p" }), [
      "NATS_TOKEN: set only one of NATS_CREDS, NATS_TOKEN, NATS_USER (also set: NATS_USER)",
      "NATS_USER: set only one of NATS_CREDS, NATS_TOKEN, NATS_USER (also set: NATS_TOKEN)",
    ]);
  });

  it("NATS_CREDS: a readable credentials file", () => {
    const dir = mkdtempSync(join(tmpdir(), "t2v-creds-"));
    try {
      const good = join(dir, "svc.creds");
      writeFileSync(
        good,
        "-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\nSUAM\n------END USER NKEY SEED------\n",
      );
      const bad = join(dir, "bad.creds");
      writeFileSync(bad, "not a creds file");
      assert.equal(nats({ NATS_CREDS: good }).natsCreds, good);
      assert.deepEqual(problems({ NATS_CREDS: bad }), [
        `NATS_CREDS: ${bad} is not a NATS credentials file (user JWT and NKey seed)`,
      ]);
      assert.deepEqual(problems({ NATS_CREDS: join(dir, "missing.creds") }), [
        `NATS_CREDS: cannot read ${join(dir, "missing.creds")}: ENOENT`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
