import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { NatsSettings } from "@t2v/common/config";
import { randomPasswords } from "@t2v/common/nats-access";
import { natsCredentialsFile, operatorNats, serviceNatsEnv } from "./local-nats-users.js";

const none: NatsSettings = {
  natsUrl: "nats://127.0.0.1:4222",
  natsReplicas: 1,
  natsCreds: "",
  natsToken: "",
  natsUser: "",
  natsPassword: "",
};

describe("the NATS users of `t2v up`", () => {
  it("gives each service its own user and password, and the admin to none of them", () => {
    const passwords = randomPasswords();
    const env = serviceNatsEnv(passwords);
    assert.deepEqual(Object.keys(env).sort(), ["encoder", "gateway", "inference", "scheduler"]);
    assert.deepEqual(env.gateway, { NATS_USER: "gateway", NATS_PASSWORD: passwords.gateway });
  });

  it("operator commands use the local admin only for a NATS on this machine and without credentials set", async () => {
    const dir = await mkdtemp(join(tmpdir(), "t2v-cli-nats-"));
    try {
      assert.deepEqual(operatorNats(none, dir), none, "no credentials file: as configured");
      const passwords = randomPasswords();
      await writeFile(natsCredentialsFile(dir), JSON.stringify(passwords));
      assert.deepEqual(operatorNats(none, dir), { ...none, natsUser: "admin", natsPassword: passwords.admin });
      const own = { ...none, natsUser: "ops", natsPassword: "x" };
      assert.deepEqual(operatorNats(own, dir), own, "the environment's credentials win");
      const remote = { ...none, natsUrl: "nats://nats.example.com:4222" };
      assert.deepEqual(operatorNats(remote, dir), remote, "a local password never goes to another host");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
