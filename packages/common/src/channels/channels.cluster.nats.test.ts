import { after, before } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { natsServerVersion, startNatsCluster, type TestNatsCluster } from "../testing/nats-cluster.js";
import { createNatsBus } from "./bus/nats-bus.js";
import { CLUSTERED_CAS_FIXED_IN, lacksClusteredCas } from "./bus/nats-server-defects.js";
import { describeChannelsContract } from "./channels-contract.js";

/**
 * The channels contract on a three-node JetStream cluster (real nats-server
 * processes on loopback), every stream, bucket and object store with 3
 * replicas, the client given all three nodes as NATS_URL would give them.
 * On a server with the clustered compare-and-swap defect the one case that
 * races two updates still runs, reported as a todo naming the defect.
 */
const version = natsServerVersion();
const concurrentCasDefect = lacksClusteredCas(version)
  ? `nats-server ${version} < ${CLUSTERED_CAS_FIXED_IN}: concurrent CAS on a replicated stream may both win (nats-server#4320)`
  : undefined;
let cluster: TestNatsCluster | undefined;

before(async () => {
  cluster = await startNatsCluster();
});
after(async () => {
  await cluster?.stop();
});

describeChannelsContract(
  "NATS bus on a 3-node cluster, replicas 3",
  async () => {
    if (!cluster) throw new Error("the cluster did not start");
    const nc = await connect({ servers: cluster.url.split(","), ...cluster.admin });
    const jsm = await jetstreamManager(nc);
    // KV buckets and object stores are streams too.
    for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
    const bus = await createNatsBus(nc, { replicas: 3 });
    return { bus, close: () => bus.close() };
  },
  concurrentCasDefect ? { concurrentCasDefect } : {},
);
