#!/usr/bin/env node
// Writes the wan-tiny reference model package: node packages/model/dist/build-reference-model-cli.js <dir>
import { resolve } from "node:path";
import { buildReferenceModelFiles } from "./reference/build-reference-model.js";

const outDir = process.argv[2];
if (outDir === undefined || outDir === "") {
  process.stderr.write("usage: build-reference-model-cli <output-dir>\n");
  process.exit(2);
}
const dir = resolve(outDir);
const started = performance.now();
const files = await buildReferenceModelFiles(dir);
for (const f of files) process.stdout.write(`wrote ${dir}/${f.file} (${f.bytes} bytes)\n`);
process.stdout.write(`built wan-tiny in ${Math.round(performance.now() - started)} ms\n`);
