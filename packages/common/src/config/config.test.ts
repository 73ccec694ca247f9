import assert from "node:assert/strict";
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
