// Operations around the API (webhooks, health, reflection, rate limits,
// shutdown, NATS outage, queue estimates) against a real nats-server, gateway
// and scheduler; none of it needs a worker, so none is started.
import { useMesh } from "../support/use-mesh.js";
import { gatewayOpsTests } from "./suites/gateway-ops.js";
import { queueEstimateTests } from "./suites/queue-estimates.js";

const mesh = useMesh({
  env: { WEBHOOK_ALLOW_HOSTS: "127.0.0.1", WEBHOOK_RETRY_BASE_MS: "200" },
  services: ["scheduler", "gateway"],
});

gatewayOpsTests(mesh);
// Last: it stops the scheduler.
queueEstimateTests(mesh);
