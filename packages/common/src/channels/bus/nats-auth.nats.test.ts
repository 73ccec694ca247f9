import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { connect } from "@nats-io/transport-node";
import { natsAuth, natsServers } from "./nats-connect.js";

/** A real nats-server that demands a user and password, or a token. */
async function withServer(args: string[], fn: (url: string) => Promise<void>): Promise<void> {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
  const child: ChildProcess = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), ...args], {
    stdio: "ignore",
  });
  try {
    for (let i = 0; i < 200; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const c = net.connect({ host: "127.0.0.1", port }, () => resolve(!!c.destroy()));
        c.once("error", () => resolve(false));
      });
      if (up) break;
      await delay(50);
    }
    await fn(`127.0.0.1:${port},nats://127.0.0.1:${port}`);
  } finally {
    child.kill("SIGTERM");
  }
}

const none = { natsCreds: "", natsToken: "", natsUser: "", natsPassword: "" };

describe("NATS credentials from the configuration", () => {
  it("connects with NATS_USER and NATS_PASSWORD; without them, or with a wrong one, is refused", async () => {
    await withServer(["--user", "svc", "--pass", "s3cret"], async (url) => {
      const nc = await connect({
        servers: natsServers(url),
        ...natsAuth({ ...none, natsUser: "svc", natsPassword: "s3cret" }),
      });
      await nc.flush();
      await nc.close();
      await assert.rejects(connect({ servers: natsServers(url), ...natsAuth(none) }), /Authorization/i);
      await assert.rejects(
        connect({ servers: natsServers(url), ...natsAuth({ ...none, natsUser: "svc", natsPassword: "wrong" }) }),
        /Authorization/i,
      );
    });
  });

  it("connects with NATS_TOKEN", async () => {
    await withServer(["--auth", "tok-123"], async (url) => {
      const nc = await connect({ servers: natsServers(url), ...natsAuth({ ...none, natsToken: "tok-123" }) });
      await nc.flush();
      await nc.close();
      await assert.rejects(connect({ servers: natsServers(url), ...natsAuth(none) }), /Authorization/i);
    });
  });
});
