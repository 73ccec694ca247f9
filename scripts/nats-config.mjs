#!/usr/bin/env node
// Writes deploy/kustomize/base/nats-authorization.conf, the NATS users and their permissions,
// from packages/common/src/nats-access (what each service uses of the channels).
//   node scripts/nats-config.mjs [FILE]   (run `npx tsc -b` first; `npm run nats:config` does both)
// `npm run check` fails when the committed file differs from what this writes.
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { AUTHORIZATION_FILE, renderAuthorization } = await import(
  pathToFileURL(join(root, "packages/common/dist/nats-access/index.js")).href
);
const out = process.argv[2] ?? join(root, "deploy/kustomize/base", AUTHORIZATION_FILE);
await writeFile(out, renderAuthorization());
