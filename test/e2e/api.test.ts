// The public API against the whole mesh: nats-server and the four services as
// separate processes, one mesh for every suite below (they run in this order).
import { useMesh } from "../support/use-mesh.js";
import { edgeValidationTests } from "./suites/edge-validation.js";
import { fuzzTests } from "./suites/fuzz.js";
import { gatewayApiTests } from "./suites/gateway-api.js";
import { generationTests } from "./suites/generation.js";
import { observabilityTests } from "./suites/observability.js";
import { taskManagementTests } from "./suites/task-management.js";

const mesh = useMesh({
  collectSpans: true,
  env: {
    DOWNLOAD_SIGNING_SECRET: "e2e-download-signing-secret",
    MAX_QUEUED_PER_TENANT_BATCH: "2",
    WEBHOOK_ALLOW_HOSTS: "127.0.0.1",
    // No test here is about rate limits (gateway-ops is), and the fuzzer must never meet one.
    RATE_LIMIT_STANDARD: "1000000/1000000",
  },
});

generationTests(mesh);
observabilityTests(mesh);
gatewayApiTests(mesh);
edgeValidationTests(mesh);
taskManagementTests(mesh);
// Last: it may leave the workers busy with what it got queued until its own cleanup.
fuzzTests(mesh);
