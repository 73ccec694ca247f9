/**
 * The fan-out baseline: a bare connect-node server whose WatchTask streams
 * each send an event every RAW_INTERVAL_MS (staggered), stamped when sent, with
 * no NATS, no auth and no record behind it. Prints its port on stdout.
 */

import http2 from "node:http2";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { TaskEventSchema, TaskStatus, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";

const INTERVAL_MS = Number(process.env.RAW_INTERVAL_MS ?? 5_000);

function routes(router: ConnectRouter): void {
  router.service(VideoService, {
    async *watchTask(req, ctx) {
      const stamp = () =>
        create(TaskEventSchema, {
          task: { taskId: req.taskId, status: TaskStatus.PROCESSING, updateTime: timestampNow() },
        });
      yield stamp();
      // A random phase spreads the streams over the interval, as round-robin updates do for the gateway.
      await new Promise((r) => setTimeout(r, Math.random() * INTERVAL_MS));
      while (!ctx.signal.aborted) {
        yield stamp();
        await new Promise((r) => setTimeout(r, INTERVAL_MS));
      }
    },
  });
}

const server = http2.createServer(connectNodeAdapter({ routes }));
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  console.log(typeof a === "object" && a ? a.port : 0);
});
process.on("SIGTERM", () => process.exit(0));
