import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
} from "@t2v/common/gen/grpc/health/v1/health_pb";
import { linkSignals } from "@t2v/common/process";
import type { ServingState } from "./serving-state.js";

/**
 * grpc.health.v1 for Kubernetes gRPC probes and load balancers. "" is the
 * whole server; each served service is known by its full name.
 */
export function createHealthService(
  state: ServingState,
  services: readonly string[],
  stopping: AbortSignal,
): ServiceImpl<typeof Health> {
  const known = (service: string): boolean => service === "" || services.includes(service);
  const status = (): Status => (state.serving ? Status.SERVING : Status.NOT_SERVING);
  return {
    check(req) {
      if (!known(req.service)) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status: status() });
    },
    async *watch(req, ctx) {
      if (!known(req.service)) {
        yield create(HealthCheckResponseSchema, { status: Status.SERVICE_UNKNOWN });
        return;
      }
      const queue: Status[] = [status()];
      let wake: (() => void) | undefined;
      const off = state.onChange(() => {
        queue.push(status());
        wake?.();
      });
      const linked = linkSignals([ctx.signal, stopping]);
      const { signal } = linked;
      const onAbort = (): void => wake?.();
      signal.addEventListener("abort", onAbort);
      try {
        for (;;) {
          const next = queue.shift();
          if (next !== undefined) {
            yield create(HealthCheckResponseSchema, { status: next });
            continue;
          }
          // On shutdown the last word sent is NOT_SERVING, then the stream ends.
          if (signal.aborted) return;
          await new Promise<void>((r) => {
            wake = r;
          });
        }
      } finally {
        off();
        signal.removeEventListener("abort", onAbort);
        linked.dispose();
      }
    },
  };
}
