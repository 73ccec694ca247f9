import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { createInterface, type Interface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type BlobStore, type Bus, channels, connectNats, createNatsBus, openMediaStores } from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask } from "@t2v/common/task";
import { startNatsServer, type TestNatsServer } from "@t2v/common/testing/nats-server";
import { silentLog } from "./testing/gateway-fixture.js";

// Downloads against a real nats-server and a gateway process of its own (issue 12, point 6).
// Not part of `npm run test:unit`: `node --test services/gateway/dist/downloads.nats.test.js`.

const MB = 1024 * 1024;
const VIDEO_BYTES = 30 * MB;
const SECOND_BYTES = 20 * MB;

interface Sample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  peakRss: number;
  inBytes: number;
  inMsgs: number;
}

interface GatewayProcess {
  port: number;
  key: string;
  sample(): Promise<Sample>;
  stop(): void;
}

async function spawnGateway(nats: TestNatsServer, env: Record<string, string>): Promise<GatewayProcess> {
  const script = fileURLToPath(new URL("./testing/serve-on-nats.js", import.meta.url));
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["--expose-gc", script], {
    env: { ...process.env, NATS_URL: nats.url, ...nats.env("gateway"), GATEWAY_ENV: JSON.stringify(env) },
  });
  child.stderr.on("data", (d: Buffer) => process.stderr.write(d));
  const lines: Interface = createInterface({ input: child.stdout });
  const next = (): Promise<string> => new Promise((resolve) => lines.once("line", resolve));
  const { port, key } = JSON.parse(await next()) as { port: number; key: string };
  return {
    port,
    key,
    async sample() {
      const line = next();
      child.stdin.write("sample\n");
      return JSON.parse(await line) as Sample;
    },
    stop() {
      child.stdin.end();
      child.kill();
    },
  };
}

/** A GET whose client reads the response head and then nothing more, keeping the socket open. */
function stalledGet(port: number, path: string, headers: Record<string, string> = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("error", reject);
    s.once("connect", () => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
      s.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${extra}\r\n`);
      s.once("data", () => {
        s.pause();
        resolve(s);
      });
    });
  });
}

/** Resolves when the socket closes (the gateway closed it), or rejects after `ms`. */
function closedWithin(s: net.Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the socket stayed open")), ms);
    s.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    // Reading again lets the close arrive; whatever was buffered is thrown away.
    s.resume();
  });
}

/** The first answer that is not a 429 or a 503, asking every half second within a deadline. */
async function firstOk(url: string): Promise<Response> {
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(url);
    if ((res.status !== 429 && res.status !== 503) || Date.now() > until) {
      assert.equal(res.status, 200);
      return res;
    }
    await res.arrayBuffer();
    await delay(500);
  }
}

/** Samples until the gateway has stopped reading from NATS (two samples a second apart agree), within a deadline. */
async function settled(gw: GatewayProcess): Promise<Sample> {
  let prev = await gw.sample();
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    await delay(1000);
    const now = await gw.sample();
    if (now.inBytes - prev.inBytes < 64 * 1024) return now;
    prev = now;
  }
  throw new Error("the gateway kept reading from NATS");
}

describe("downloads on a real nats-server (gateway processes of their own)", () => {
  let server: TestNatsServer;
  let bus: Bus;
  let videos: BlobStore;
  /** Default limits. */
  let gw: GatewayProcess;
  /** Tight limits: 2 downloads per file, 3 per tenant, 8 MiB/s per file, stalled clients closed after 2 s. */
  let tight: GatewayProcess;
  /** One download at a time in the whole gateway, stalled clients closed after 2 s. */
  let single: GatewayProcess;
  let video: Uint8Array;
  const links: string[] = [];

  before(async () => {
    server = await startNatsServer();
    const nc = await connectNats(server.url, "downloads-test", silentLog, {
      natsCreds: "",
      natsToken: "",
      natsUser: server.admin.user,
      natsPassword: server.admin.pass,
    });
    bus = await createNatsBus(nc);
    ({ videos } = await openMediaStores(bus, { videoTtlHours: 168 }));
    [gw, tight, single] = await Promise.all([
      spawnGateway(server, {}),
      spawnGateway(server, {
        DOWNLOADS_PER_LINK: "2",
        DOWNLOADS_PER_TENANT: "3",
        DOWNLOAD_LINK_MIB_PER_SECOND: "8",
        DOWNLOAD_STALL_MS: "2000",
      }),
      spawnGateway(server, { DOWNLOADS_PER_GATEWAY: "1", DOWNLOAD_STALL_MS: "2000" }),
    ]);
    const base = `http://127.0.0.1:${gw.port}`;
    const auth = { authorization: `Bearer ${gw.key}`, "content-type": "application/json" };
    video = new Uint8Array(randomBytes(VIDEO_BYTES));
    // The second is big enough (20 MiB) that a stalled client's socket buffers cannot take all of it.
    for (const content of [video, video.subarray(0, SECOND_BYTES)]) {
      const created = (await (
        await fetch(`${base}/v1/t2v/generate`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ prompt: "big" }),
        })
      ).json()) as { task_id: string };
      // As the encoder stores a video: from a stream (256 KiB chunks).
      await videos.put(`${created.task_id}.mp4`, new Blob([content]).stream());
      await channels(bus).tasks.update(created.task_id, (r) => {
        const done = endTask(r, TaskStatus.COMPLETED);
        if (done) done.videoObject = `${created.task_id}.mp4`;
        return done;
      });
      const status = (await (
        await fetch(`${base}/v1/t2v/status?task_id=${created.task_id}`, { headers: auth })
      ).json()) as { result_url: string };
      const url = new URL(status.result_url);
      links.push(`${url.pathname}${url.search}`);
    }
  });
  after(async () => {
    gw?.stop();
    tight?.stop();
    single?.stop();
    await bus?.close();
    await server?.stop();
  });

  it("serves a range from a late offset reading only the chunks that hold it", async () => {
    const read = async (range: string): Promise<{ body: Uint8Array; natsBytes: number; natsMsgs: number }> => {
      const before = await gw.sample();
      const res = await fetch(`http://127.0.0.1:${gw.port}${links[0]}`, { headers: { range } });
      assert.equal(res.status, 206);
      const body = new Uint8Array(await res.arrayBuffer());
      const after = await gw.sample();
      return { body, natsBytes: after.inBytes - before.inBytes, natsMsgs: after.inMsgs - before.inMsgs };
    };
    const tail = await read(`bytes=${VIDEO_BYTES - 1000}-`);
    assert.deepEqual(tail.body, video.subarray(VIDEO_BYTES - 1000));
    const mid = await read(`bytes=${10 * MB + 5}-${11 * MB + 4}`);
    assert.deepEqual(mid.body, video.subarray(10 * MB + 5, 11 * MB + 5));
    const whole = await fetch(`http://127.0.0.1:${gw.port}${links[0]}`);
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), video);
    console.log(
      `# late range: ${tail.natsMsgs} NATS messages, ${tail.natsBytes} bytes in for 1,000 bytes of a 30 MiB video`,
    );
    console.log(`# 1 MiB range at 10 MiB: ${mid.natsMsgs} NATS messages, ${mid.natsBytes} bytes in`);
    // The last 1,000 bytes sit in the last 256 KiB chunk; 1 MiB from mid-chunk spans 5 chunks.
    assert.ok(tail.natsBytes < 256 * 1024 + 64 * 1024, `late range read ${tail.natsBytes} bytes from NATS: one chunk`);
    assert.ok(
      mid.natsBytes < 5 * 256 * 1024 + 64 * 1024,
      `1 MiB range read ${mid.natsBytes} bytes from NATS: 5 chunks`,
    );
  });

  it("holds bounded memory for clients that never read", async () => {
    const CLIENTS = 8;
    const before = await settled(gw);
    const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => stalledGet(gw.port, links[0] ?? "")));
    const during = await settled(gw);
    const grewMb = (during.arrayBuffers - before.arrayBuffers) / MB;
    const rssMb = (during.rss - before.rss) / MB;
    const readMb = (during.inBytes - before.inBytes) / MB;
    console.log(
      `# ${CLIENTS} stalled clients of a 30 MiB video: array buffers +${grewMb.toFixed(1)} MiB, rss +${rssMb.toFixed(1)} MiB, ${readMb.toFixed(1)} MiB read from NATS`,
    );
    for (const s of sockets) s.destroy();
    // Whole videos would be 240 MiB; each stalled download may hold its read-ahead (1 MiB) and a few pieces.
    assert.ok(grewMb < CLIENTS * 3, `array buffers grew ${grewMb.toFixed(1)} MiB for ${CLIENTS} stalled clients`);
    assert.ok(readMb < CLIENTS * 12, `${readMb.toFixed(1)} MiB read from NATS: no more than the sockets took`);
  });

  it("answers 429 with Retry-After past the per-file and per-tenant caps, and frees the slots of stalled clients", async () => {
    const url = (i: number) => `http://127.0.0.1:${tight.port}${links[i]}`;
    const a = await Promise.all([stalledGet(tight.port, links[0] ?? ""), stalledGet(tight.port, links[0] ?? "")]);
    const third = await fetch(url(0));
    assert.equal(third.status, 429);
    assert.equal(third.headers.get("retry-after"), "1");
    assert.match(((await third.json()) as { error: string }).error, /this file/);
    const b = await stalledGet(tight.port, links[1] ?? "");
    const fourth = await fetch(url(1));
    assert.equal(fourth.status, 429, "the tenant's third download is open");
    assert.match(((await fourth.json()) as { error: string }).error, /this tenant/);
    assert.equal((await fetch(url(1), { method: "HEAD" })).status, 200, "HEAD costs no slot");
    // Stalled clients (still not reading) are closed after DOWNLOAD_STALL_MS, and their slots come back.
    const freed = await firstOk(url(1));
    assert.deepEqual(new Uint8Array(await freed.arrayBuffer()), video.subarray(0, SECOND_BYTES));
    await (await firstOk(url(0))).arrayBuffer();
    await Promise.all([...a, b].map((s) => closedWithin(s, 60_000)));
  });

  it("answers 503 with Retry-After past the gateway's cap, whichever tenant or file asks", async () => {
    const stalled = await stalledGet(single.port, links[0] ?? "");
    const other = await fetch(`http://127.0.0.1:${single.port}${links[1]}`);
    assert.equal(other.status, 503);
    assert.equal(other.headers.get("retry-after"), "1");
    assert.match(((await other.json()) as { error: string }).error, /this gateway/);
    // The stalled client is closed after DOWNLOAD_STALL_MS, and the gateway serves again.
    const freed = await firstOk(`http://127.0.0.1:${single.port}${links[1]}`);
    assert.deepEqual(new Uint8Array(await freed.arrayBuffer()), video.subarray(0, SECOND_BYTES));
    await closedWithin(stalled, 60_000);
  });

  it("paces a download to the per-file rate", async () => {
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${tight.port}${links[0]}`);
    assert.equal(res.status, 200);
    assert.equal((await res.arrayBuffer()).byteLength, VIDEO_BYTES);
    const seconds = (Date.now() - started) / 1000;
    console.log(`# 30 MiB at DOWNLOAD_LINK_MIB_PER_SECOND=8 took ${seconds.toFixed(1)} s`);
    // A lower bound only (a loaded machine is slower, never faster): 30 MiB less the 8 MiB burst at 8 MiB/s.
    assert.ok(seconds >= 2.5, `took ${seconds} s`);
  });
});
