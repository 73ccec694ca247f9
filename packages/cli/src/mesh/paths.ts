import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file's place in packages/cli/dist/mesh. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export function serviceEntry(service: string): string {
  return join(REPO_ROOT, "services", service, "dist", "main.js");
}

export function defaultDataDir(): string {
  return join(REPO_ROOT, ".data");
}
