import { createMemoryBus } from "./bus/memory-bus.js";
import { describeChannelsContract } from "./channels-contract.js";
import { describeKvCacheContract } from "./kv-cache-contract.js";

describeChannelsContract(
  "in-memory bus",
  async () => {
    const bus = createMemoryBus();
    return { bus, close: () => bus.close() };
  },
  { quietMs: 100, timeScale: 0.3 },
);

describeKvCacheContract("in-memory bus", async () => {
  const bus = createMemoryBus();
  return { bus, close: () => bus.close() };
});
