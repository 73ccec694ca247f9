import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { systemResolver } from "./dns-resolver.js";

/** A name server on 127.0.0.1: "good.test" has one A record, names starting "hole" are never answered. */
async function fakeNameServer() {
  const socket = dgram.createSocket("udp4");
  const asked: string[] = [];
  socket.on("message", (msg, from) => {
    let at = 12;
    const labels: string[] = [];
    while (at < msg.length && msg[at] !== 0) {
      const len = msg[at] ?? 0;
      labels.push(msg.subarray(at + 1, at + 1 + len).toString("ascii"));
      at += len + 1;
    }
    const name = labels.join(".");
    const qtype = msg.readUInt16BE(at + 1);
    asked.push(name);
    if (name.startsWith("hole")) return;
    const question = msg.subarray(12, at + 5);
    const answer = name === "good.test" && qtype === 1;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(answer || name === "good.test" ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answer ? 1 : 0, 6);
    const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34]);
    socket.send(Buffer.concat([header, question, ...(answer ? [record] : [])]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { server: `127.0.0.1:${socket.address().port}`, asked, close: () => socket.close() };
}

describe("systemResolver (c-ares, bounded)", () => {
  let ns: Awaited<ReturnType<typeof fakeNameServer>>;
  before(async () => {
    ns = await fakeNameServer();
  });
  after(() => ns.close());

  it("answers from the name server, and loopback for localhost and IP literals without asking", async () => {
    const resolve = systemResolver({ servers: [ns.server] });
    assert.deepEqual(await resolve("good.test"), [{ address: "93.184.216.34", family: 4 }]);
    await assert.rejects(resolve("missing.test"));
    const before = ns.asked.length;
    assert.deepEqual(await resolve("10.0.0.1"), [{ address: "10.0.0.1", family: 4 }]);
    assert.equal((await resolve("LocalHost.")).length, 2);
    assert.equal(ns.asked.length, before);
  });

  it("gives up on a server that never answers at its deadline, without holding libuv's thread pool", async () => {
    const resolve = systemResolver({ servers: [ns.server], timeoutMs: 4_000, maxConcurrent: 16 });
    let settled = 0;
    const lookups = Array.from({ length: 8 }, (_, i) =>
      resolve(`hole${i}.test`).then(
        () => assert.fail("a blackholed name resolved"),
        (err: Error) => {
          settled++;
          return err.message;
        },
      ),
    );
    // dns.lookup would hold all four pool threads here; gzip needs one.
    await Promise.all(Array.from({ length: 8 }, () => promisify(gzip)(Buffer.alloc(1024))));
    assert.equal(settled, 0, "the pool work finished while every lookup was still waiting");
    assert.deepEqual(await Promise.all(lookups), Array(8).fill("DNS timeout"));
  });

  it("runs at most maxConcurrent lookups, lets maxWaiting wait (inside the timeout) and refuses the rest at once", async () => {
    const resolve = systemResolver({ servers: [ns.server], timeoutMs: 2_000, maxConcurrent: 2, maxWaiting: 1 });
    const inFlight = [resolve("hole-a.test"), resolve("hole-b.test"), resolve("hole-c.test")];
    await assert.rejects(resolve("good.test"), /DNS busy/);
    const settled = await Promise.allSettled(inFlight);
    assert.deepEqual(
      settled.map((s) => (s.status === "rejected" ? String(s.reason) : "resolved")),
      Array(3).fill("Error: DNS timeout"),
    );
    assert.deepEqual(await resolve("good.test"), [{ address: "93.184.216.34", family: 4 }]);
  });
});
