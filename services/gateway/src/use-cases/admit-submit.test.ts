import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { silentLog } from "../testing/gateway-fixture.js";
import { admitSubmitUseCase } from "./admit-submit.js";

/** A queue check and a daily charge that answer as told, recording what was given back. */
function parts(queue: "ok" | "full", daily: "ok" | "spent") {
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
    log: silentLog,
  });
  return { admit, given };
}

describe("admitSubmitUseCase", () => {
  it("admits when both checks pass, giving nothing back", async () => {
    const p = parts("ok", "ok");
    (await p.admit("acme", "standard")).confirm();
    assert.deepEqual(p.given, ["confirmed"]);
  });

  it("gives back what the passing check took, and answers the queue's refusal first", async () => {
    for (const [queue, daily, error, given] of [
      ["full", "ok", "queue full", ["day"]],
      ["ok", "spent", "daily spent", ["place"]],
      ["full", "spent", "queue full", []],
    ] as const) {
      const p = parts(queue, daily);
      await assert.rejects(p.admit("acme", "standard"), { message: error });
      assert.deepEqual(p.given, given, `${queue}/${daily}`);
    }
  });
});
