#!/usr/bin/env node
// Prints the Kubernetes Secret nats-credentials with a fresh random password per NATS user
// (the services', admin's, and the cluster's route user): nats-server reads all of them, each service its own.
//   node scripts/nats-secret.mjs | kubectl apply -f -      (run `npx tsc -b` first)
// Applying it again rotates every password: restart nats, then the services (deploy/README.md).
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { NATS_USERS, passwordVar, randomPasswords } = await import(
  pathToFileURL(join(root, "packages/common/dist/nats-access/index.js")).href
);
const namespace = process.argv[2] ?? "t2v";
const passwords = randomPasswords();
const lines = NATS_USERS.map((u) => `  ${passwordVar(u)}: "${passwords[u]}"`);
process.stdout.write(`apiVersion: v1
kind: Secret
metadata:
  name: nats-credentials
  namespace: ${namespace}
type: Opaque
stringData:
${lines.join("\n")}
`);
