import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildReferenceModel } from "../reference/build-reference-model.js";

/** Builds wan-tiny into a fresh temp dir; returns the dir and a cleanup function. */
export async function buildTempModel(prefix = "wan-tiny-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await buildReferenceModel(dir);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
