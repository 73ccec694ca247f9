import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isSafePassword, loadOrCreatePasswords, randomPasswords } from "./local-nats-files.js";
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
      await writeFile(file, JSON.stringify({ gateway: "keptpassword0123456789" }), { mode: 0o644 });
      const all = await loadOrCreatePasswords(file);
      assert.equal(all.gateway, "keptpassword0123456789");
      assert.ok(all.admin.length >= 32);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("never makes or keeps a password nats-server would not read back as a string", async () => {
    // nats-server parses "-abc" and "12e5xyz" from the environment as broken values and exits at start.
    for (let i = 0; i < 2_000; i++) for (const p of Object.values(randomPasswords())) assert.ok(isSafePassword(p), p);
    for (const bad of ["-abc123", "12e5xyz", "9abcdefghijklmnopq", "", "short"])
      assert.equal(isSafePassword(bad), false, bad);
    const dir = await mkdtemp(join(tmpdir(), "t2v-nats-pw-"));
    try {
      const file = join(dir, "nats-credentials.json");
      await writeFile(file, JSON.stringify({ gateway: "-abc123def456ghi789", admin: "12e5abcdefabcdefabcd" }));
      const all = await loadOrCreatePasswords(file);
      assert.ok(isSafePassword(all.gateway) && isSafePassword(all.admin), "replaced");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
