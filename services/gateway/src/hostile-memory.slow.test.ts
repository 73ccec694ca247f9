import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import http2 from "node:http2";
import { createInterface, type Interface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import { frame, h1Call, h2Call } from "./testing/hostile-client.js";

const MB = 1024 * 1024;
/** The bound: 1,000 half-sent 1 MB bodies from clients without a key grow the gateway by less than this. */
const BOUND = 100 * MB;
const SESSIONS = 10;
const STREAMS_PER_SESSION = 100;
/** How long the gateway is stopped (SIGSTOP) while the attack is sent. */
const FROZEN_MS = 2_000;

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  peakRss: number;
}

describe("hostile clients: memory (a gateway process of its own)", () => {
  let child: ChildProcessWithoutNullStreams;
  let lines: Interface;
  let port = 0;
  const next = (): Promise<string> => new Promise((resolve) => lines.once("line", resolve));
  const memory = async (): Promise<Memory> => {
    const line = next();
    child.stdin.write("mem\n");
    return JSON.parse(await line) as Memory;
  };

  before(async () => {
    const script = fileURLToPath(new URL("./testing/serve-on-memory-bus.js", import.meta.url));
    child = spawn(process.execPath, ["--expose-gc", script], {
      env: { ...process.env, GATEWAY_ENV: process.env.GATEWAY_ENV ?? "{}" },
    });
    child.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    lines = createInterface({ input: child.stdout });
    port = (JSON.parse(await next()) as { port: number }).port;
  });
  after(() => {
    child.kill("SIGCONT");
    child.stdin.end();
    child.kill();
  });

  it(`${SESSIONS * STREAMS_PER_SESSION} half-sent 1 MB bodies without a key grow it by less than 100 MB`, async () => {
    const base = `http://127.0.0.1:${port}`;
    // Warm up every path the attack takes, so the baseline has their code loaded.
    const warm = http2.connect(base);
    await h2Call(
      warm,
      { ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers" },
      [frame(new Uint8Array(0))],
      true,
    );
    warm.destroy();
    const before = await memory();
    const body = frame(Buffer.alloc(MB, 0x61));
    // An attacker has no memory limit of its own: Node's client session would reset the
    // answers itself (ENHANCE_YOUR_CALM) once its 100 MB of queued writes pass its 10 MB
    // default, and leave those streams unsettled.
    const sessions = Array.from({ length: SESSIONS }, () => http2.connect(base, { maxSessionMemory: 4096 }));
    for (const s of sessions) s.on("error", () => undefined);
    await Promise.all(sessions.map((s) => once(s, "remoteSettings")));
    // The gateway is frozen while the attack is sent, so it meets all of it at once, as a
    // gateway too busy to keep up would: the figure does not depend on how loaded this machine is.
    child.kill("SIGSTOP");
    const calls = sessions.flatMap((s, i) =>
      Array.from({ length: STREAMS_PER_SESSION }, (_, j) => {
        // Half call VideoService without a key (or with a bogus one), half Health, which needs none.
        const path = j % 2 === 0 ? "/t2v.v1.VideoService/CreateTask" : "/grpc.health.v1.Health/Check";
        const auth = j % 4 === 0 ? { authorization: `Bearer t2v_bogus${i}_${"0".repeat(43)}` } : {};
        return h2Call(
          s,
          { ":path": path, "content-type": "application/grpc", te: "trailers", ...auth },
          [body],
          false,
          120_000,
        );
      }),
    );
    await new Promise((r) => setTimeout(r, FROZEN_MS));
    child.kill("SIGCONT");
    const outcomes = await Promise.all(calls);
    // And REST: half-sent 1 MB bodies over HTTP/1.1, no key.
    const rest = await Promise.all(
      Array.from({ length: 50 }, () =>
        h1Call(
          port,
          { path: "/v1/t2v/generate", headers: { "content-type": "application/json", "content-length": String(MB) } },
          [Buffer.alloc(256 * 1024, 0x20)],
          false,
          120_000,
        ),
      ),
    );
    const during = await memory();
    for (const s of sessions) s.destroy();
    const grew = during.peakRss - before.rss;
    const retained = during.rss - before.rss;
    process.stdout.write(
      `# gateway RSS ${mb(before.rss)} before; peak ${mb(during.peakRss)} (+${mb(grew)}); ` +
        `after GC with the attackers still connected ${mb(during.rss)} (+${mb(retained)}), ` +
        `heap ${mb(during.heapUsed)} of ${mb(during.heapTotal)} (${mb(before.heapTotal)} before), ` +
        `array buffers ${mb(during.arrayBuffers)} (${mb(before.arrayBuffers)} before)\n`,
    );
    // Every call is answered in gRPC, or reset by the gateway (an HTTP/2 limit), none left hanging.
    for (const o of outcomes)
      assert.ok(
        o.grpcStatus === Code.Unauthenticated || o.grpcStatus === Code.ResourceExhausted || o.rstCode !== null,
        `grpc-status ${o.grpcStatus}, RST_STREAM ${o.rstCode}`,
      );
    assert.ok(
      rest.every((r) => r.status === 401 || r.status === 429 || r.status === 413),
      "REST answered",
    );
    assert.ok(grew < BOUND, `peak RSS grew by ${mb(grew)}`);
  });
});

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}
