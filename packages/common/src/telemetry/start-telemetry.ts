import { DiagConsoleLogger, DiagLogLevel, diag } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { NoopSpanProcessor } from "@opentelemetry/sdk-trace-base";

export interface Telemetry {
  /** Flushes spans; bounded, never throws (an unreachable collector must not block shutdown). */
  shutdown(): Promise<void>;
}

const SHUTDOWN_TIMEOUT_MS = 3_000;

/**
 * OpenTelemetry for one service, configured by the standard OTEL_* variables.
 * Traces are exported only when a collector is configured (OTEL_TRACES_EXPORTER
 * or an OTLP endpoint); otherwise spans still exist, so logs carry trace ids,
 * but nothing leaves the process. Metrics are served for Prometheus on
 * METRICS_PORT (0 turns them off).
 */
export function startTelemetry(service: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  if (env.OTEL_LOG_LEVEL) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
  const exportTraces = Boolean(
    env.OTEL_TRACES_EXPORTER || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );
  const metricsPort = Number(env.METRICS_PORT ?? 0);
  const metricReaders =
    Number.isInteger(metricsPort) && metricsPort > 0
      ? [
          new PrometheusExporter({ port: metricsPort, host: env.METRICS_HOST ?? "0.0.0.0" }, (err) => {
            if (err) process.stderr.write(`${service}: metrics endpoint not started: ${err.message}\n`);
          }),
        ]
      : [];
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? service,
    instrumentations: [],
    metricReaders,
    // A processor that drops every span still installs a tracer provider, so
    // logs carry real trace ids, while nothing is exported.
    ...(exportTraces ? {} : { spanProcessors: [new NoopSpanProcessor()] }),
  });
  sdk.start();
  return {
    async shutdown() {
      await Promise.race([
        sdk.shutdown().catch(() => undefined),
        new Promise((r) => setTimeout(r, SHUTDOWN_TIMEOUT_MS).unref()),
      ]);
    },
  };
}
