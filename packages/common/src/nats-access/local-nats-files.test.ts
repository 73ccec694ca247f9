import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadOrCreatePasswords } from "./local-nats-files.js";
import { NATS_USERS } from "./nats-users.js";

describe("local NATS passwords", () => {
  it("are made once, readable by the owner only, and reused on later starts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "t2v-nats-pw-"));
    try {
      const file = join(dir, "nats-credentials.json");
      const first = await loadOrCreatePasswords(file);
      assert.deepEqual(Object.keys(first).sort(), [...NATS_USERS].sort());
      assert.equal(new Set(Object.values(first)).size, NATS_USERS.length, "one password per user");
      for (const p of Object.values(first)) assert.ok(p.length >= 32, p);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.deepEqual(await loadOrCreatePasswords(file), first);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("adds a user a file from an older version lacks, keeping the others", async () => {
    const dir = await mkdtemp(join(tmpdir(), "t2v-nats-pw-"));
    try {
      const file = join(dir, "nats-credentials.json");
      await writeFile(file, JSON.stringify({ gateway: "kept-password" }), { mode: 0o644 });
      const all = await loadOrCreatePasswords(file);
      assert.equal(all.gateway, "kept-password");
      assert.ok(all.admin.length >= 32);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
