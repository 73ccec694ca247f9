import { after, before } from "node:test";
import { lateBound } from "./late-bound.js";
import { type MeshOptions, startMesh, type TestMesh } from "./mesh.js";

/**
 * The one setup of an end-to-end file: starts nats-server and the services in
 * `before` (each waited for on its `/readyz`) and stops them in `after`. The
 * returned mesh can be used inside tests and hooks that run after it started.
 * Options may come from a function, run at that moment, for what must exist
 * first (a model folder): Node 20 runs a file's top-level `before` hooks
 * concurrently, so another hook cannot be relied on to have finished.
 */
export function useMesh(options: MeshOptions | (() => Promise<MeshOptions>) = {}): TestMesh {
  let mesh: TestMesh | undefined;
  before(async () => {
    mesh = await startMesh(typeof options === "function" ? await options() : options);
  });
  after(async () => {
    await mesh?.stop();
  });
  return lateBound(() => {
    if (!mesh) throw new Error("the mesh is used before it started (outside a test or a later hook)");
    return mesh;
  });
}
