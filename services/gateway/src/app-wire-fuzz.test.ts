import assert from "node:assert/strict";
import http2 from "node:http2";
import type net from "node:net";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { createMemoryBus, type MemoryBus } from "@t2v/common/channels";
import fc from "fast-check";
import { type Gateway, start } from "./app.js";
import { fuzzRuns } from "./testing/fuzz-runs.js";
import { publicResolver, silentLog, type Tenant, tenant, testConfig } from "./testing/gateway-fixture.js";
import { closedWithin, frame, h1Call, h2Call, rawSocket } from "./testing/hostile-client.js";

/**
 * Random bytes against a real gateway (app.start on port 0): the protocol
 * sniff, the HTTP/1.1 and HTTP/2 parsers, gRPC framing, the node adapter's
 * Protobuf check and the REST body parser. Every case is answered with a
 * client error in its protocol or has its connection closed, and the port
 * serves well-behaved clients afterwards.
 */
const LIMITS = {
  REQUEST_MAX_BYTES: "65536",
  SNIFF_TIMEOUT_MS: "500",
  HEADERS_TIMEOUT_MS: "1000",
  BODY_TIMEOUT_MS: "2000",
  IDLE_TIMEOUT_MS: "60000",
  // Every case comes from 127.0.0.1.
  AUTH_FAILURE_RATE: "100000/100000",
  MAX_CONNECTIONS_PER_ADDRESS: "1000",
};
/** A wait's deadline on a loaded 2-core machine, never a timing assertion. */
const DEADLINE_MS = 20_000;
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** gRPC's OK (connect-es has no Code for it). */
const OK = 0;
/** grpc-status a client's garbage may get: its own fault or a limit; never INTERNAL or UNKNOWN. */
const CLIENT_CODES = new Set<number>([
  OK,
  Code.InvalidArgument,
  Code.NotFound,
  Code.ResourceExhausted,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.Unimplemented,
  Code.Unauthenticated,
  Code.DeadlineExceeded,
]);

/** First bytes of a connection: noise, the HTTP/2 preface then noise (truncated frames), HTTP/1.1 lines then noise. */
const firstBytes = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 600 }),
  fc
    .tuple(fc.integer({ min: 1, max: 24 }), fc.uint8Array({ maxLength: 400 }))
    .map(([n, rest]) => Buffer.concat([PREFACE.subarray(0, n), rest])),
  fc
    .tuple(
      fc.constantFrom("GET / HTTP/1.1\r\n", "POST /v1/t2v/generate HTTP/1.1\r\n", "GET /healthz HTTP/1.0\r\n", "X"),
      fc.string({ unit: "binary", maxLength: 300 }),
    )
    .map(([line, rest]) => Buffer.from(line + rest)),
);

/** A gRPC body: frames of random bytes with honest, lying or truncated lengths, possibly "compressed". */
const grpcBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc
    .array(fc.record({ payload: fc.uint8Array({ maxLength: 200 }), compressed: fc.boolean() }), {
      minLength: 1,
      maxLength: 4,
    })
    .map((fs) => Buffer.concat(fs.map((f) => frame(f.payload, f.compressed)))),
  fc.tuple(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 0, max: 0xffffffff })).map(([payload, declared]) => {
    const f = frame(payload);
    f.writeUInt32BE(declared, 1);
    return f;
  }),
  fc.uint8Array({ maxLength: 200 }).map((b) => frame(gzipSync(b), true)),
);

/** A REST generate body: JSON of any shape, near-JSON, or noise. */
const restBody = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify({ prompt: "a cat", resolution: v })),
  fc
    .dictionary(
      fc.constantFrom("prompt", "duration", "frame_rate", "seed", "timeout", "style"),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map((d) => JSON.stringify(d)),
  fc.string({ unit: "binary", maxLength: 400 }),
);

describe("the wire, fuzzed (a real gateway, fast-check)", () => {
  let bus: MemoryBus;
  let gateway: Gateway;
  let base: string;
  let alice: Tenant;
  let h2: http2.ClientHttp2Session | undefined;
  /** One HTTP/2 connection for the calls, opened again if the gateway closed it (idle, or after garbage). */
  const session = (): http2.ClientHttp2Session => {
    if (!h2 || h2.closed || h2.destroyed) {
      h2 = http2.connect(base);
      h2.on("error", () => undefined);
    }
    return h2;
  };
  before(async () => {
    bus = createMemoryBus();
    gateway = await start(testConfig(LIMITS), { bus, log: silentLog, resolve: publicResolver });
    alice = await tenant(await openApiKeyStore(bus), "alice");
    base = `http://127.0.0.1:${gateway.port}`;
  });
  after(async () => {
    h2?.close();
    const stopped = gateway.stop();
    await bus.close();
    await stopped;
  });

  it("any first bytes on a connection: answered or closed, and the port still serves", async () => {
    await fc.assert(
      fc.asyncProperty(firstBytes, async (bytes) => {
        const socket: net.Socket = await rawSocket(gateway.port);
        socket.write(bytes);
        socket.end();
        await closedWithin(socket, DEADLINE_MS);
      }),
      { numRuns: fuzzRuns("wire") },
    );
    const r = await h2Call(
      session(),
      { ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers" },
      [frame(new Uint8Array(0))],
      true,
    );
    assert.equal(r.grpcStatus, OK);
  });

  it("any gRPC body, with or without a key: a client error in gRPC, never INTERNAL", async () => {
    const call = fc.record({
      path: fc.constantFrom(
        "/grpc.health.v1.Health/Check",
        "/t2v.v1.VideoService/CreateTask",
        "/t2v.v1.VideoService/GetTask",
        "/t2v.v1.VideoService/ListTasks",
      ),
      key: fc.boolean(),
      encoding: fc.constantFrom(undefined, "gzip", "identity", "br", "bogus"),
      body: grpcBody,
    });
    await fc.assert(
      fc.asyncProperty(call, async ({ path, key, encoding, body }) => {
        const r = await h2Call(
          session(),
          {
            ":path": path,
            "content-type": "application/grpc",
            te: "trailers",
            ...(key ? { authorization: `Bearer ${alice.key}` } : {}),
            ...(encoding ? { "grpc-encoding": encoding } : {}),
          },
          [body],
          true,
          DEADLINE_MS,
        );
        assert.equal(r.httpStatus, 200);
        assert.ok(r.grpcStatus !== null && CLIENT_CODES.has(r.grpcStatus), `grpc-status ${r.grpcStatus} for ${path}`);
      }),
      { numRuns: fuzzRuns("wire") },
    );
  });

  it("what it found: compressed frames that are not the client's declared encoding, or do not decompress or parse, are INVALID_ARGUMENT", async () => {
    const cases: [string | undefined, Buffer][] = [
      // The compressed flag without grpc-encoding (or with identity).
      [undefined, frame(gzipSync(Buffer.alloc(0)), true)],
      ["identity", frame(gzipSync(Buffer.alloc(0)), true)],
      // Brotli that is not brotli.
      ["br", frame(Buffer.from([1, 2, 3]), true)],
      // Good gzip of bad Protobuf (a varint that never ends).
      ["gzip", frame(gzipSync(Buffer.from([0x08, 0xff])), true)],
    ];
    for (const [encoding, body] of cases) {
      const r = await h2Call(
        session(),
        {
          ":path": "/grpc.health.v1.Health/Check",
          "content-type": "application/grpc",
          te: "trailers",
          ...(encoding ? { "grpc-encoding": encoding } : {}),
        },
        [body],
        true,
        DEADLINE_MS,
      );
      assert.equal(r.grpcStatus, Code.InvalidArgument, `grpc-encoding ${encoding}`);
    }
  });

  it("any REST generate body: 200, or a 4xx with a JSON error, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(restBody, fc.boolean(), async (text, key) => {
        const body = Buffer.from(text);
        const r = await h1Call(
          gateway.port,
          {
            path: "/v1/t2v/generate",
            headers: {
              "content-type": "application/json",
              "content-length": String(body.length),
              ...(key ? { authorization: `Bearer ${alice.key}` } : {}),
            },
          },
          [body],
          true,
          DEADLINE_MS,
        );
        assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `status ${r.status}: ${r.body}`);
        if (r.status !== 200)
          assert.equal(typeof (JSON.parse(r.body) as { error: { code: string } }).error.code, "string");
      }),
      { numRuns: fuzzRuns("wire") },
    );
  });
});
