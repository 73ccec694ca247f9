import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import fc from "fast-check";
import { GatewayErrorCode } from "../../domain/error-codes.js";
import { fuzzRuns } from "../../testing/fuzz-runs.js";
import { speaksHttp2 } from "./protocol-sniff.js";
import { ENVELOPE_ALLOWANCE, guardBody } from "./request-body-guard.js";

describe("body guard and protocol sniff (fuzz, fast-check)", () => {
  it("a body in any chunks: passed whole under the limit, else refused REQUEST_TOO_LARGE at the chunk that passes it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 40_000 }), { maxLength: 12 }),
        fc.integer({ min: 1024, max: 100_000 }),
        async (sizes, maxBytes) => {
          let pulled = 0;
          async function* source() {
            for (const n of sizes) {
              pulled++;
              yield new Uint8Array(n);
            }
          }
          let refused = 0;
          let passed = 0;
          const wireMax = maxBytes + ENVELOPE_ALLOWANCE;
          const total = sizes.reduce((a, b) => a + b, 0);
          try {
            for await (const c of guardBody(source(), { maxBytes, timeoutMs: 60_000 }, () => refused++))
              passed += c.byteLength;
            assert.ok(total <= wireMax, `passed ${total} over ${wireMax}`);
            assert.equal(passed, total);
          } catch (err) {
            assert.ok(err instanceof ConnectError);
            assert.equal(err.code, Code.ResourceExhausted);
            assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, GatewayErrorCode.requestTooLarge);
            assert.ok(total > wireMax);
            assert.equal(refused, 1);
            // Nothing read ahead: the chunk that passed the limit is the last one pulled.
            let crossing = 0;
            for (let sum = sizes[0] ?? 0; sum <= wireMax; sum += sizes[crossing] ?? 0) crossing++;
            assert.equal(pulled, crossing + 1);
          }
          assert.ok(passed <= wireMax);
        },
      ),
      { numRuns: fuzzRuns() },
    );
  });

  it("the sniff: HTTP/2 exactly when the first bytes agree with its preface", () => {
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    const head = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc
        .tuple(fc.integer({ min: 1, max: 24 }), fc.uint8Array({ maxLength: 40 }))
        .map(([n, rest]) => Uint8Array.from([...preface.subarray(0, n), ...rest])),
      fc.constantFrom("GET / HTTP/1.1\r\n", "PRI * HTTP/1.1\r\n", "POST /x HTTP/1.0\r\n").map((s) => Buffer.from(s)),
    );
    fc.assert(
      fc.property(head, (h) => {
        const n = Math.min(h.length, preface.length);
        assert.equal(speaksHttp2(h), Buffer.from(h.subarray(0, n)).equals(preface.subarray(0, n)));
      }),
      { numRuns: fuzzRuns() },
    );
  });
});
