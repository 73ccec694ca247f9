import { createMemoryBus } from "./bus/memory-bus.js";
import { describeVideoBytesContract } from "./video-bytes-contract.js";

describeVideoBytesContract("in-memory bus", async () => {
  const bus = createMemoryBus();
  return { scheduler: bus, gateway: bus, close: () => bus.close() };
});
