import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { channels, connectNats, createNatsBus } from "@t2v/common/channels";
import { ErrorInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { startNatsServer, type TestNatsServer } from "@t2v/common/testing/nats-server";
import { start } from "./app.js";
import { publicResolver, silentLog, tenant, testConfig } from "./testing/gateway-fixture.js";

// Admission across gateway replicas on a real nats-server (issue 12, point 5): two gateways, each with
// its own NATS connection, serve one tenant at once. Not part of `npm run test:unit`:
// `node --test services/gateway/dist/admission.nats.test.js`.

const LIMIT = 6;

let server: TestNatsServer | undefined;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server?.stop();
});

async function gatewayOn(nats: TestNatsServer) {
  // As the gateway's own NATS user: its permissions must cover the shared admission state too.
  const nc = await connectNats(nats.url, "gateway-test", silentLog, {
    natsCreds: "",
    natsToken: "",
    natsUser: "gateway",
    natsPassword: nats.env("gateway").NATS_PASSWORD,
  });
  const bus = await createNatsBus(nc);
  const gateway = await start(testConfig({ MAX_QUEUED_PER_TENANT_STANDARD: String(LIMIT) }), {
    bus,
    log: silentLog,
    resolve: publicResolver,
  });
  return {
    bus,
    client: createClient(VideoService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${gateway.port}` })),
    async stop() {
      const stopped = gateway.stop();
      await bus.close();
      await stopped;
    },
  };
}

describe("admission across gateway replicas (real nats-server)", () => {
  it("a burst across two gateways stops at the tenant's queue limit, and refusals spend no daily quota", async () => {
    assert.ok(server);
    const a = await gatewayOn(server);
    const b = await gatewayOn(server);
    try {
      const alice = await tenant(await openApiKeyStore(a.bus), "alice");
      // No scheduler runs: nothing is ever counted as queued, so only the gateways' own places hold the line.
      // Half the limit through one gateway first, then a burst through both: the other sees those places.
      for (let i = 0; i < LIMIT / 2; i++) await a.client.createTask({ prompt: `first ${i}` }, alice.auth);
      const burst = await Promise.allSettled(
        Array.from({ length: 2 * LIMIT }, (_, i) =>
          (i % 2 === 0 ? a : b).client.createTask({ prompt: `burst ${i}` }, alice.auth),
        ),
      );
      const created = burst.filter((r) => r.status === "fulfilled");
      const refusals = burst.flatMap((r) => (r.status === "rejected" ? [ConnectError.from(r.reason)] : []));
      assert.equal(created.length, LIMIT / 2, `created ${created.length}: ${refusals.map((e) => e.rawMessage)[0]}`);
      for (const err of refusals) {
        assert.equal(err.code, Code.ResourceExhausted, err.rawMessage);
        assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, "QUOTA_EXCEEDED");
      }
      assert.equal(
        await channels(a.bus).dailyTaskCounts.count("alice", Date.now()),
        LIMIT,
        "a refused submit gave its day's count back",
      );
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
