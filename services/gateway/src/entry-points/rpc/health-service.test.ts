import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContextValues, createHandlerContext } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@t2v/common/gen/grpc/health/v1/health_pb";
import { createHealthService } from "./health-service.js";
import { createServingState } from "./serving-state.js";

function ctx(signal: AbortSignal) {
  return createHandlerContext({
    service: Health,
    method: Health.method.watch,
    protocolName: "test",
    requestMethod: "POST",
    url: "http://x/",
    requestSignal: signal,
    contextValues: createContextValues(),
  });
}

describe("health service", () => {
  it("answers Check for the server and known services only", async () => {
    const state = createServingState(true);
    const svc = createHealthService(state, ["a.B"], new AbortController().signal);
    const check = (service: string) =>
      svc.check({ $typeName: "grpc.health.v1.HealthCheckRequest", service }, ctx(new AbortController().signal));
    assert.equal((await check("")).status, Status.SERVING);
    assert.equal((await check("a.B")).status, Status.SERVING);
    await assert.rejects(async () => check("nope"));
    state.set(false);
    assert.equal((await check("")).status, Status.NOT_SERVING);
  });

  it("streams changes on Watch and ends with NOT_SERVING on shutdown", async () => {
    const state = createServingState(true);
    const stopping = new AbortController();
    const svc = createHealthService(state, [], stopping.signal);
    const seen: Status[] = [];
    const watching = (async () => {
      for await (const r of svc.watch(
        { $typeName: "grpc.health.v1.HealthCheckRequest", service: "" },
        ctx(new AbortController().signal),
      ))
        seen.push(r.status ?? Status.UNKNOWN);
    })();
    await new Promise((r) => setTimeout(r, 10));
    state.set(false);
    state.set(true);
    state.set(false);
    stopping.abort();
    await watching;
    assert.deepEqual(seen, [Status.SERVING, Status.NOT_SERVING, Status.SERVING, Status.NOT_SERVING]);
  });
});
