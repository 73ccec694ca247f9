import { createMemoryBus } from "./bus/memory-bus.js";
import { describeChannelsContract, describeStoreLimits } from "./channels-contract.js";
import { describeKvCacheContract } from "./kv-cache-contract.js";

describeChannelsContract(
  "in-memory bus",
  async () => {
    const bus = createMemoryBus();
    return { bus, close: () => bus.close() };
  },
  { quietMs: 100, timeScale: 0.3 },
);

describeStoreLimits("in-memory bus", async (storeLimits) => {
  const bus = createMemoryBus(Date.now, { storeLimits });
  return { bus, close: () => bus.close() };
});

describeKvCacheContract("in-memory bus", async () => {
  const bus = createMemoryBus();
  return { bus, close: () => bus.close() };
});
