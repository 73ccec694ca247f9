import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { silentLog } from "../testing/gateway-fixture.js";
import { admitSubmitUseCase } from "./admit-submit.js";

/** A queue check, a daily charge and a byte check that answer as told, recording what was given back. */
function parts(queue: "ok" | "full", daily: "ok" | "spent", bytes: "ok" | "full" = "ok") {
  const given: string[] = [];
  const admit = admitSubmitUseCase({
    admitQueued: async () => {
      if (queue === "full") throw new Error("queue full");
      return { confirm: () => given.push("confirmed"), release: () => given.push("place") };
    },
    chargeDailyQuota: async () => {
      if (daily === "spent") throw new Error("daily spent");
      return { refund: async () => void given.push("day") };
    },
    checkVideoBytes: async () => {
      if (bytes === "full") throw new Error("bytes full");
    },
    log: silentLog,
  });
  return { admit, given };
}

describe("admitSubmitUseCase", () => {
  it("admits when every check passes, giving nothing back", async () => {
    const p = parts("ok", "ok");
    (await p.admit("acme", "standard")).confirm();
    assert.deepEqual(p.given, ["confirmed"]);
  });

  it("gives back what the passing checks took, and answers the queue's refusal first, then the day's", async () => {
    for (const [queue, daily, bytes, error, given] of [
      ["full", "ok", "ok", "queue full", ["day"]],
      ["ok", "spent", "ok", "daily spent", ["place"]],
      ["full", "spent", "ok", "queue full", []],
      ["ok", "ok", "full", "bytes full", ["place", "day"]],
      ["full", "ok", "full", "queue full", ["day"]],
      ["ok", "spent", "full", "daily spent", ["place"]],
      ["full", "spent", "full", "queue full", []],
    ] as const) {
      const p = parts(queue, daily, bytes);
      await assert.rejects(p.admit("acme", "standard"), { message: error });
      assert.deepEqual(p.given, given, `${queue}/${daily}/${bytes}`);
    }
  });
});
