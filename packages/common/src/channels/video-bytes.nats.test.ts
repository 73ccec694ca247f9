import { after, before } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsUser } from "../nats-access/index.js";
import { startNatsServer, type TestNatsServer } from "../testing/nats-server.js";
import { createNatsBus } from "./bus/nats-bus.js";
import { natsAuth } from "./bus/nats-connect.js";
import { describeVideoBytesContract } from "./video-bytes-contract.js";

/** One nats-server with the project's users and permissions; each test starts from an empty server. */
let server: TestNatsServer | undefined;

before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server?.stop();
});

// As the services themselves: the scheduler counts and expires, the gateway reads and deletes, each
// with its own NATS user, so a bucket missing from either's permissions fails here.
describeVideoBytesContract("NATS bus, as the scheduler and gateway users", async () => {
  const s = server;
  if (!s) throw new Error("nats-server did not start");
  const admin = await connect({ servers: s.url, ...s.admin });
  const jsm = await jetstreamManager(admin);
  for await (const st of jsm.streams.list()) await jsm.streams.delete(st.config.name);
  await admin.close();
  const as = async (user: NatsUser) =>
    createNatsBus(
      await connect({
        servers: s.url,
        ...natsAuth({ natsCreds: "", natsToken: "", natsUser: user, natsPassword: s.passwords[user] }),
      }),
    );
  const [scheduler, gateway] = await Promise.all([as("scheduler"), as("gateway")]);
  return {
    scheduler,
    gateway,
    close: async () => {
      await Promise.all([scheduler.close(), gateway.close()]);
    },
  };
});
