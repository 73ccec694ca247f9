import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { BadRequestSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { connectClient } from "../../support/gateway-clients.js";
import { grpcVideoClient } from "../../support/grpc-video-client.js";
import type { TestMesh } from "../../support/mesh.js";

/** Requests the contract refuses, over Connect and grpc-js, and a mesh that stays up after them. */
export function edgeValidationTests(mesh: TestMesh): void {
  const connect = () => connectClient(mesh.baseUrl, mesh.apiKey);

  describe("validation at the edge", () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["empty prompt", { prompt: "" }, "prompt"],
      ["blank prompt", { prompt: "   " }, "prompt"],
      ["prompt over 200 characters", { prompt: "x".repeat(201) }, "prompt"],
      ["duration below 3.0", { prompt: "x", duration: 2.9 }, "duration"],
      ["duration above 10.0", { prompt: "x", duration: 10.5 }, "duration"],
      ["resolution 1080p", { prompt: "x", resolution: "1080p" }, "resolution"],
    ];

    for (const [name, body, field] of cases) {
      it(`rejects ${name} with INVALID_ARGUMENT naming ${field} (Connect)`, async () => {
        const err = await connect()
          .createTask(body)
          .then(
            () => assert.fail("accepted"),
            (e: unknown) => ConnectError.from(e),
          );
        assert.equal(err.code, Code.InvalidArgument);
        assert.match(err.rawMessage, new RegExp(field));
        const details = err.findDetails(BadRequestSchema);
        assert.deepEqual(
          details.flatMap((d) => d.fieldViolations.map((v) => v.field)),
          [field],
        );
      });

      it(`rejects ${name} with INVALID_ARGUMENT naming ${field} (grpc-js)`, async () => {
        const c = grpcVideoClient(`127.0.0.1:${mesh.port}`, mesh.apiKey);
        try {
          const err = (await c.createTask(body).then(
            () => assert.fail("accepted"),
            (e: unknown) => e,
          )) as grpc.ServiceError;
          assert.equal(err.code, 3); // INVALID_ARGUMENT
          assert.match(err.details, new RegExp(field));
        } finally {
          c.close();
        }
      });
    }

    it("accepts 200 Chinese characters", async () => {
      const t = await connect().createTask({ prompt: "樱".repeat(200), resolution: "480p", duration: 3 });
      assert.equal(t.status, TaskStatus.QUEUED);
      await connect().cancelTask({ taskId: t.taskId });
    });

    it("answers NOT_FOUND for unknown and malformed task ids", async () => {
      for (const id of ["01890000-0000-7000-8000-000000000000", "nope", "../../etc/passwd"]) {
        const err = await connect()
          .getTask({ taskId: id })
          .then(
            () => assert.fail("found"),
            (e: unknown) => ConnectError.from(e),
          );
        assert.equal(err.code, Code.NotFound, id);
      }
    });

    it("keeps every service up after bad input", async () => {
      for (const name of ["gateway", "scheduler", "inference", "encoder"] as const) {
        assert.equal(mesh.process(name).exitCode, null, `${name} exited`);
      }
      assert.equal((await fetch(`${mesh.baseUrl}/readyz`)).status, 200);
    });
  });
}
