import { createServer, type Server } from "node:http";
import { DiagConsoleLogger, DiagLogLevel, diag } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { NoopSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { opsFields, readConfigOrExit } from "../config/config.js";

export interface Telemetry {
  /** What `/readyz` answers: false until the service takes work, and while it cannot. */
  setReady(ready: boolean): void;
  /** What `/healthz` answers: false once the service is broken beyond repair (its supervisor restarts it). */
  setLive(live: boolean): void;
  /** Flushes spans and closes the ops port; bounded, never throws (an unreachable collector must not block shutdown). */
  shutdown(): Promise<void>;
}

const SHUTDOWN_TIMEOUT_MS = 3_000;

/**
 * OpenTelemetry for one service, configured by the standard OTEL_* variables.
 * Traces are exported only when a collector is configured (OTEL_TRACES_EXPORTER
 * or an OTLP endpoint); otherwise spans still exist, so logs carry trace ids,
 * but nothing leaves the process. METRICS_PORT (0: off) serves `/metrics` for
 * Prometheus and the `/healthz` (liveness) and `/readyz` (readiness) probes.
 */
export function startTelemetry(service: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  const ops = readConfigOrExit(service, opsFields, env);
  if (env.OTEL_LOG_LEVEL) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
  const exportTraces = Boolean(
    env.OTEL_TRACES_EXPORTER || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );
  const exporter = ops.metricsPort > 0 ? new PrometheusExporter({ preventServerStart: true }) : undefined;
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? service,
    instrumentations: [],
    metricReaders: exporter ? [exporter] : [],
    // A processor that drops every span still installs a tracer provider, so
    // logs carry real trace ids, while nothing is exported.
    ...(exportTraces ? {} : { spanProcessors: [new NoopSpanProcessor()] }),
  });
  sdk.start();
  const probes = { ready: false, live: true };
  let server: Server | undefined;
  if (exporter) {
    server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/metrics") return exporter.getMetricsRequestHandler(req, res);
      const ok = path === "/healthz" ? probes.live : path === "/readyz" ? probes.live && probes.ready : undefined;
      res.writeHead(ok === undefined ? 404 : ok ? 200 : 503, { "content-type": "text/plain" });
      res.end(ok === undefined ? "not found\n" : ok ? "ok\n" : "not ready\n");
    });
    server.on("error", (err) => process.stderr.write(`${service}: ops port not started: ${err.message}\n`));
    server.listen(ops.metricsPort, ops.metricsHost);
  }
  return {
    setReady(ready) {
      probes.ready = ready;
    },
    setLive(live) {
      probes.live = live;
    },
    async shutdown() {
      server?.close();
      await Promise.race([
        sdk.shutdown().catch(() => undefined),
        new Promise((r) => setTimeout(r, SHUTDOWN_TIMEOUT_MS).unref()),
      ]);
    },
  };
}
