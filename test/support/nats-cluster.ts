import { type TestNatsCluster as Nodes, startNatsCluster } from "@t2v/common/testing/nats-cluster";
import { testNatsUsers } from "@t2v/common/testing/nats-users";
import { reapOnExit } from "./child-reaper.js";
import type { TestNats } from "./nats-server.js";

export type TestNatsCluster = Nodes & {
  /** The cluster as one NATS service: `down`/`up`/`restart` act on every node. */
  asOne: TestNats;
};

/** A three-node JetStream cluster on loopback for one test file; killed with the test process. */
export async function startNatsClusterForTest(): Promise<TestNatsCluster> {
  const nodes = await startNatsCluster({ onSpawn: reapOnExit });
  const names = nodes.nodes.map((n) => n.name);
  const down = async (): Promise<void> => {
    await Promise.all(names.map((n) => nodes.kill(n)));
  };
  const up = async (): Promise<void> => {
    await Promise.all(names.map((n) => nodes.start(n)));
    await nodes.waitMetaLeader();
  };
  return Object.assign(nodes, {
    asOne: {
      ...testNatsUsers(nodes.passwords),
      url: nodes.url,
      port: nodes.nodes[0]?.port ?? 0,
      storeDir: nodes.root,
      down,
      up,
      async restart() {
        await down();
        await up();
      },
      stop: () => nodes.stop(),
    },
  });
}
