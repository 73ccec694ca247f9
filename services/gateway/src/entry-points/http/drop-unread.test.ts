import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { dropUnreadAfter } from "./drop-unread.js";

/** Answers 401 at once, reading nothing, as the gateway answers a call without a key. */
let server: http.Server;
let port = 0;
before(async () => {
  server = http.createServer((req, res) => {
    dropUnreadAfter(req, res);
    res.writeHead(401, { "content-type": "text/plain" }).end("no key");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

/** A raw HTTP/1.1 connection, with everything it has read so far and whether the gateway closed it. */
function connection() {
  const s = net.connect(port, "127.0.0.1");
  let text = "";
  let ended = false;
  s.on("data", (d: Buffer) => {
    text += d.toString("latin1");
  });
  s.on("end", () => {
    ended = true;
  });
  s.on("error", () => undefined);
  const until = async (done: () => boolean) => {
    while (!done() && !ended) await Promise.race([once(s, "data"), once(s, "end")]).catch(() => undefined);
  };
  const answered = () => (text.match(/HTTP\/1\.1 401/g) ?? []).length;
  return {
    s,
    read: () => text,
    ended: () => ended,
    /** Until `n` answers came or the connection was closed; how many came. */
    answers: async (n: number) => {
      await until(() => answered() >= n);
      return answered();
    },
    closed: () => (ended ? Promise.resolve() : once(s, "end").then(() => undefined)),
  };
}

describe("dropUnreadAfter (HTTP/1.1)", () => {
  it("keeps the connection when the rest of a short body comes after the answer: the next request is served", async () => {
    const c = connection();
    c.s.write("POST /a HTTP/1.1\r\nHost: x\r\ncontent-length: 10\r\n\r\n");
    await c.answers(1);
    c.s.write("0123456789");
    c.s.write("POST /b HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\nok");
    assert.equal(await c.answers(2), 2, "the next request on the connection is answered");
    assert.equal(c.ended(), false, "not closed");
    c.s.destroy();
  });

  it("closes the connection (FIN after the answer) when the declared body is long", async () => {
    const c = connection();
    c.s.write(`POST /a HTTP/1.1\r\nHost: x\r\ncontent-length: ${1024 * 1024}\r\n\r\n{`);
    await c.closed();
    assert.match(c.read(), /^HTTP\/1\.1 401/);
    c.s.destroy();
  });

  it("closes it once the discarded rest passes 64 KiB", async () => {
    const c = connection();
    c.s.write("POST /a HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n");
    await c.answers(1);
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    for (let i = 0; i < 8 && !c.ended(); i++) c.s.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`);
    await c.closed();
    c.s.destroy();
  });
});
