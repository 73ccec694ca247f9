import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { createMemoryBus, type MemoryBus } from "@t2v/common/channels";
import { ErrorInfoSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { CreateTaskRequestSchema, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { type Gateway, start } from "./app.js";
import { publicResolver, silentLog, type Tenant, tenant, testConfig } from "./testing/gateway-fixture.js";
import { closedWithin, frame, h1Call, h2Call, rawSocket, until } from "./testing/hostile-client.js";

/** Small limits so every attack trips one quickly; the defaults are in config.ts and docs/security.md. */
const LIMITS = {
  REQUEST_MAX_BYTES: "65536",
  SNIFF_TIMEOUT_MS: "300",
  HEADERS_TIMEOUT_MS: "600",
  BODY_TIMEOUT_MS: "800",
  IDLE_TIMEOUT_MS: "600",
  HTTP2_MAX_CONCURRENT_STREAMS: "16",
  MAX_HEADER_BYTES: "8192",
  HTTP2_WINDOW_BYTES: "65536",
  AUTH_FAILURE_RATE: "60/3",
};
const MB = 1024 * 1024;
const VIDEO = "/t2v.v1.VideoService";
const HEALTH = "/grpc.health.v1.Health/Check";
/** Generous for a loaded 2-core machine: a wait's deadline, never a timing assertion. */
const CLOSE_DEADLINE_MS = 15_000;

async function startGateway(env: Record<string, string>) {
  const bus = createMemoryBus();
  const gateway = await start(testConfig({ ...LIMITS, ...env }), { bus, log: silentLog, resolve: publicResolver });
  const keys = await openApiKeyStore(bus);
  return { bus, gateway, base: `http://127.0.0.1:${gateway.port}`, alice: await tenant(keys, "alice") };
}

async function stopAll(gateway: Gateway, bus: MemoryBus): Promise<void> {
  const stopped = gateway.stop();
  await bus.close();
  await stopped;
}

const grpcHeaders = (path: string, extra: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders => ({
  ":path": path,
  "content-type": "application/grpc+proto",
  te: "trailers",
  ...extra,
});

describe("hostile clients: bodies (app.start on port 0, raw sockets)", () => {
  let bus: MemoryBus;
  let gateway: Gateway;
  let base: string;
  let alice: Tenant;
  let h2: http2.ClientHttp2Session;
  before(async () => {
    ({ bus, gateway, base, alice } = await startGateway({ IDLE_TIMEOUT_MS: "60000", BODY_TIMEOUT_MS: "5000" }));
    h2 = http2.connect(base);
  });
  after(async () => {
    h2.close();
    await stopAll(gateway, bus);
  });
  const auth = () => ({ authorization: `Bearer ${alice.key}` });

  it("gRPC: a declared content-length over the limit is refused before the body is sent", async () => {
    const r = await h2Call(
      h2,
      grpcHeaders(`${VIDEO}/CreateTask`, { ...auth(), "content-length": String(MB) }),
      [],
      false,
    );
    assert.equal(r.grpcStatus, Code.ResourceExhausted);
  });

  it("gRPC: a body without content-length is refused once its running count passes the limit", async () => {
    const r = await h2Call(h2, grpcHeaders(`${VIDEO}/CreateTask`, auth()), [frame(Buffer.alloc(MB, 1))], false);
    assert.equal(r.grpcStatus, Code.ResourceExhausted);
    // Health needs no key: bounded the same way.
    const h = await h2Call(h2, grpcHeaders(HEALTH), [frame(Buffer.alloc(MB, 1))], false);
    assert.equal(h.grpcStatus, Code.ResourceExhausted);
  });

  it("gRPC: one message over the limit after decompression (a gzip bomb) is refused", async () => {
    const bomb = gzipSync(Buffer.alloc(16 * MB));
    assert.ok(bomb.length < 65536, `bomb is ${bomb.length} bytes on the wire`);
    const r = await h2Call(
      h2,
      grpcHeaders(`${VIDEO}/CreateTask`, { ...auth(), "grpc-encoding": "gzip" }),
      [frame(bomb, true)],
      true,
    );
    assert.equal(r.grpcStatus, Code.ResourceExhausted);
  });

  it("gRPC: without a key the call is refused before its body is read, and the stream is stopped", async () => {
    const r = await h2Call(h2, grpcHeaders(`${VIDEO}/CreateTask`), [frame(Buffer.alloc(32 * 1024, 1))], false);
    assert.equal(r.grpcStatus, Code.Unauthenticated);
  });

  it("Connect unary (HTTP/1.1): refused by content-length while the body is half-sent, and by running count", async () => {
    const declared = await h1Call(
      gateway.port,
      {
        path: `${VIDEO}/CreateTask`,
        headers: { ...auth(), "content-type": "application/json", "content-length": String(MB) },
      },
      [Buffer.from('{"prompt":"')],
      false,
    );
    assert.equal(declared.status, 429);
    assert.equal((JSON.parse(declared.body) as { code: string }).code, "resource_exhausted");
    const chunked = await h1Call(
      gateway.port,
      { path: `${VIDEO}/CreateTask`, headers: { ...auth(), "content-type": "application/json" } },
      [Buffer.from(`{"prompt":"${"a".repeat(200_000)}`)],
      false,
    );
    assert.equal(chunked.status, 429);
  });

  it("Connect unary: a gzip bomb is refused", async () => {
    const bomb = gzipSync(Buffer.from(`{"prompt":"${"a".repeat(8 * MB)}"}`));
    const res = await fetch(`${base}${VIDEO}/CreateTask`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json", "content-encoding": "gzip" },
      body: bomb,
    });
    assert.equal(res.status, 429);
    assert.equal(((await res.json()) as { code: string }).code, "resource_exhausted");
  });

  it("Connect streaming and gRPC-Web (HTTP/1.1): refused by content-length and by running count", async () => {
    for (const type of ["application/connect+proto", "application/grpc-web+proto"]) {
      const declared = await h1Call(
        gateway.port,
        { path: `${VIDEO}/WatchTask`, headers: { ...auth(), "content-type": type, "content-length": String(MB) } },
        [Buffer.alloc(10)],
        false,
      );
      assert.match(declared.body + JSON.stringify(declared.headers), /resource_exhausted|grpc-status: ?8/, type);
      const counted = await h1Call(
        gateway.port,
        { path: `${VIDEO}/WatchTask`, headers: { ...auth(), "content-type": type } },
        [frame(Buffer.alloc(200_000, 1)).subarray(0, 150_000)],
        false,
      );
      assert.match(counted.body + JSON.stringify(counted.headers), /resource_exhausted|grpc-status: ?8/, type);
    }
  });

  it("REST: 413 by content-length and by running count, on HTTP/1.1 and HTTP/2", async () => {
    const path = "/v1/t2v/generate";
    const declared = await h1Call(
      gateway.port,
      { path, headers: { ...auth(), "content-type": "application/json", "content-length": String(MB) } },
      [Buffer.from("{")],
      false,
    );
    assert.equal(declared.status, 413);
    const counted = await h1Call(
      gateway.port,
      { path, headers: { ...auth(), "content-type": "application/json" } },
      [Buffer.alloc(100_000, 0x20)],
      false,
    );
    assert.equal(counted.status, 413);
    assert.equal((JSON.parse(counted.body) as { error: { error_code: string } }).error.error_code, "REQUEST_TOO_LARGE");
    const overH2 = await h2Call(
      h2,
      { ":path": path, "content-type": "application/json", ...auth() },
      [Buffer.alloc(100_000, 0x20)],
      false,
    );
    assert.equal(overH2.httpStatus, 413);
    // Any other path with a declared body over the limit too.
    const other = await h1Call(
      gateway.port,
      { path: "/anything", headers: { "content-length": String(10 * MB) } },
      [],
      false,
    );
    assert.equal(other.status, 413);
  });

  it("a body that stalls is answered at BODY_TIMEOUT_MS (gRPC: DEADLINE_EXCEEDED; REST over HTTP/2: 504)", async () => {
    const half = frame(toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, { prompt: "a boat" })));
    const r = await h2Call(h2, grpcHeaders(`${VIDEO}/CreateTask`, auth()), [half.subarray(0, 8)], false);
    assert.equal(r.grpcStatus, Code.DeadlineExceeded);
    const rest = await h2Call(
      h2,
      { ":path": "/v1/t2v/generate", "content-type": "application/json", ...auth() },
      [Buffer.from('{"prompt":')],
      false,
    );
    assert.equal(rest.httpStatus, 504);
  });

  it("HTTP/1.1: a small refused request leaves its keep-alive connection usable for the client's next request", async () => {
    // One pooled socket, so the call after each refusal goes out on the connection that was refused.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const call = (headers: http.OutgoingHttpHeaders, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${base}${VIDEO}/ListTasks`,
          { method: "POST", agent, headers: { "content-type": "application/json", ...headers } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("socket", (s) => sockets.add(s));
        req.on("error", reject);
        req.end(body);
      });
    try {
      // Two refusals: the address's failed authentications stay under AUTH_FAILURE_RATE's burst.
      assert.equal(await call({}, "{}"), 401, "no key");
      assert.equal(await call(auth(), "{}"), 200, "the owner's call next, on the same connection");
      assert.equal(await call({ authorization: "Bearer t2v_nope" }, '{"pageSize":1}'), 401, "a bogus key");
      assert.equal(await call(auth(), "{}"), 200, "and again");
      assert.equal(sockets.size, 1, "one connection for all of them");
    } finally {
      agent.destroy();
    }
  });

  it("the port still serves a well-behaved client afterwards", async () => {
    const client = createClient(VideoService, createGrpcTransport({ baseUrl: base }));
    const t = await client.createTask({ prompt: "a paper boat" }, { headers: auth() });
    assert.ok(t.taskId);
  });
});

describe("hostile clients: connections (app.start on port 0, raw sockets)", () => {
  let bus: MemoryBus;
  let gateway: Gateway;
  let base: string;
  before(async () => {
    ({ bus, gateway, base } = await startGateway({ MAX_CONNECTIONS_PER_ADDRESS: "6" }));
  });
  after(() => stopAll(gateway, bus));

  it("a socket that never speaks is closed (sniff timeout)", async () => {
    const s = await rawSocket(gateway.port);
    await closedWithin(s, CLOSE_DEADLINE_MS);
  });

  it("an HTTP/1.1 slowloris (headers one byte at a time) is closed", async () => {
    const s = await rawSocket(gateway.port);
    s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => s.writable && s.write("X"), 50);
    try {
      await closedWithin(s, CLOSE_DEADLINE_MS);
    } finally {
      clearInterval(drip);
    }
  });

  it("an HTTP/1.1 body that never completes is closed", async () => {
    const s = await rawSocket(gateway.port);
    s.write("POST /v1/t2v/generate HTTP/1.1\r\nHost: x\r\ncontent-length: 1000\r\n\r\n{");
    await closedWithin(s, CLOSE_DEADLINE_MS);
  });

  it("an HTTP/2 connection that sends only the preface, or goes idle, is closed", async () => {
    const s = await rawSocket(gateway.port);
    s.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    s.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])); // an empty SETTINGS frame
    s.on("data", () => undefined);
    await closedWithin(s, CLOSE_DEADLINE_MS);
    const session = http2.connect(base);
    const r = await h2Call(session, grpcHeaders(HEALTH), [frame(new Uint8Array(0))], true);
    assert.equal(r.grpcStatus, 0);
    await until(() => session.closed || session.destroyed, "the idle session to be closed", CLOSE_DEADLINE_MS);
  });

  it("HTTP/2 settings bound streams, header lists and windows", async () => {
    const session = http2.connect(base);
    await once(session, "remoteSettings");
    assert.equal(session.remoteSettings.maxConcurrentStreams, 16);
    assert.equal(session.remoteSettings.maxHeaderListSize, 8192);
    assert.equal(session.remoteSettings.initialWindowSize, 65536);
    // A header list over the limit is refused, and the connection still serves.
    const big = await h2Call(session, grpcHeaders(HEALTH, { "x-pad": "a".repeat(16_000) }), [], true).then(
      (r) => `status ${r.httpStatus}, rst ${r.rstCode}`,
      (e: unknown) => `refused: ${String(e)}`,
    );
    assert.match(big, /status 431|rst [1-9]|refused/);
    session.destroy();
  });

  it("an HTTP/2 rapid-reset flood does not take the port down", async () => {
    const session = http2.connect(base);
    session.on("error", () => undefined);
    await once(session, "remoteSettings");
    for (let i = 0; i < 2_000 && !session.destroyed; i++) {
      const s = session.request(grpcHeaders(HEALTH), { endStream: false });
      s.on("error", () => undefined);
      s.close(http2.constants.NGHTTP2_CANCEL);
    }
    session.destroy();
    const fresh = http2.connect(base);
    const r = await h2Call(fresh, grpcHeaders(HEALTH), [frame(new Uint8Array(0))], true);
    assert.equal(r.grpcStatus, 0);
    fresh.destroy();
  });

  it("connections per client address are capped; a freed slot can be used again", async () => {
    await until(() => gateway.connectionsOf("127.0.0.1") === 0, "earlier connections to close", CLOSE_DEADLINE_MS);
    const held = [];
    for (let i = 0; i < 6; i++) {
      const s = await rawSocket(gateway.port);
      s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n"); // past the sniff, headers pending
      held.push(s);
    }
    await until(() => gateway.connectionsOf("127.0.0.1") === 6, "six connections to be counted");
    const over = await rawSocket(gateway.port);
    await closedWithin(over, CLOSE_DEADLINE_MS);
    for (const s of held) s.destroy();
    await until(() => gateway.connectionsOf("127.0.0.1") === 0, "held connections to close");
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
  });
});

describe("hostile clients: failed authentication is limited per client address", () => {
  let bus: MemoryBus;
  let gateway: Gateway;
  let base: string;
  let alice: Tenant;
  before(async () => {
    // One token a minute: the burst of 3 is not back while the test runs, however slow the machine.
    ({ bus, gateway, base, alice } = await startGateway({ AUTH_FAILURE_RATE: "1/3" }));
  });
  after(() => stopAll(gateway, bus));

  it("after the burst, bogus keys get RESOURCE_EXHAUSTED with RetryInfo (gRPC, Connect) and 429 Retry-After (REST)", async () => {
    const grpc = createClient(VideoService, createGrpcTransport({ baseUrl: base }));
    const bogus = { headers: { authorization: "Bearer t2v_abcdefgh_0000000000000000000000000000000000000000000" } };
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push(await grpc.getTask({ taskId: "x" }, bogus).then(() => -1, codeOf));
    assert.deepEqual(codes, [Code.Unauthenticated, Code.Unauthenticated, Code.Unauthenticated]);
    const limited = await grpc.getTask({ taskId: "x" }, bogus).then(
      () => assert.fail("expected a refusal"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(limited.code, Code.ResourceExhausted);
    assert.equal(limited.findDetails(ErrorInfoSchema)[0]?.reason, "AUTH_FAILURES_LIMITED");
    assert.ok(limited.findDetails(RetryInfoSchema)[0]?.retryDelay);

    const connect = createClient(VideoService, createConnectTransport({ baseUrl: base, httpVersion: "1.1" }));
    assert.equal(await connect.getTask({ taskId: "x" }, {}).then(() => -1, codeOf), Code.ResourceExhausted);

    const rest = await fetch(`${base}/v1/t2v/status?task_id=x`, { headers: bogus.headers });
    assert.equal(rest.status, 429);
    assert.ok(Number(rest.headers.get("retry-after")) >= 1);
    // While the address waits, even a good key from it waits (no key lookup at all).
    const good = await fetch(`${base}/v1/t2v/status?task_id=x`, { headers: { authorization: `Bearer ${alice.key}` } });
    assert.equal(good.status, 429);
    // Health needs no key and is not limited.
    const health = http2.connect(base);
    assert.equal((await h2Call(health, grpcHeaders(HEALTH), [frame(new Uint8Array(0))], true)).grpcStatus, 0);
    health.destroy();
  });
});

function codeOf(e: unknown): Code {
  return ConnectError.from(e).code;
}
