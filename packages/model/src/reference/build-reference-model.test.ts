import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { validateModelPackage } from "../load-model-package.js";
import { buildTempModel } from "../test-support/temp-model.js";

test("two builds of wan-tiny are byte-identical", async () => {
  const a = await buildTempModel();
  const b = await buildTempModel();
  try {
    const files = (await readdir(a.dir)).sort();
    assert.deepEqual(files, (await readdir(b.dir)).sort());
    assert.ok(files.includes("manifest.json"));
    for (const f of files) {
      const [x, y] = await Promise.all([readFile(join(a.dir, f)), readFile(join(b.dir, f))]);
      assert.ok(x.equals(y), `${f} differs between builds`);
    }
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});

test("the reference model passes validateModelPackage and has two experts split at the boundary", async () => {
  const m = await buildTempModel();
  try {
    const manifest = await validateModelPackage(m.dir);
    assert.equal(manifest.name, "wan-tiny");
    assert.equal(manifest.components.denoisers.length, 2);
    const high = manifest.components.denoisers.find((d) => d.minTimestep === manifest.sampler.boundaryTimestep);
    assert.ok(high !== undefined, "an expert starts at the boundary");
    assert.deepEqual(manifest.frameRates, [16, 24, 30]);
  } finally {
    await m.cleanup();
  }
});
