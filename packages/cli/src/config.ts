import { commonFields, int, natsFields, oneOf, str } from "@t2v/common/config";

/** What the `t2v` command reads (`npm start` is `t2v up`); the services read their own schemas. */
export const cliConfig = {
  natsUrl: commonFields.natsUrl,
  ...natsFields,
  port: int("PORT", "the gateway's port: `t2v up` gives it to the gateway, `t2v generate` calls it", 8080, 0, 65535),
  server: str("T2V_SERVER", "the gateway `t2v generate` calls (default http://127.0.0.1:PORT)", ""),
  apiKey: str("T2V_API_KEY", "API key `t2v generate` sends (default: the key `t2v up` saved in DATA_DIR)", ""),
  dataDir: str("DATA_DIR", "all local state of `npm start`, git-ignored (default ./.data)", ""),
  modelDir: str("MODEL_DIR", "model package folder (default DATA_DIR/models/wan-tiny under `npm start`)", ""),
  metricsPortBase: int(
    "METRICS_PORT_BASE",
    "`npm start`: the services' `/metrics`, `/healthz` and `/readyz` ports are this and the next three (scheduler, inference, encoder, gateway)",
    9464,
    1,
    65532,
  ),
  logFormat: oneOf("LOG_FORMAT", "`npm start` output: `pretty` (readable) or `json` (the services' lines)", "pretty", [
    "pretty",
    "json",
  ]),
};
