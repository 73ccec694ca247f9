import assert from "node:assert/strict";
import { copyFile, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ModelPackageError } from "./errors.js";
import { validateModelPackage } from "./load-model-package.js";
import { buildTempModel } from "./test-support/temp-model.js";

async function withModel(fn: (dir: string) => Promise<void>): Promise<void> {
  const m = await buildTempModel();
  try {
    await fn(m.dir);
  } finally {
    await m.cleanup();
  }
}

async function editManifest(dir: string, edit: (m: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, "manifest.json");
  const json = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  edit(json);
  await writeFile(path, JSON.stringify(json));
}

function rejectsNaming(p: Promise<unknown>, ...parts: string[]): Promise<void> {
  return assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ModelPackageError, `expected ModelPackageError, got ${String(err)}`);
    for (const part of parts) assert.ok(err.message.includes(part), `message "${err.message}" should name ${part}`);
    return true;
  });
}

test("a missing ONNX file is rejected with its name", () =>
  withModel(async (dir) => {
    await rm(join(dir, "denoiser_low_noise.onnx"));
    await rejectsNaming(validateModelPackage(dir), "denoiser_low_noise.onnx");
  }));

test("a missing manifest is rejected", () =>
  withModel(async (dir) => {
    await rm(join(dir, "manifest.json"));
    await rejectsNaming(validateModelPackage(dir), "manifest.json");
  }));

test("a bad manifest field is rejected with its path", () =>
  withModel(async (dir) => {
    await editManifest(dir, (m) => {
      (m.sampler as Record<string, unknown>).shift = "five";
    });
    await rejectsNaming(validateModelPackage(dir), "manifest.json", "sampler.shift");
  }));

test("expert timestep ranges with a gap are rejected", () =>
  withModel(async (dir) => {
    await editManifest(dir, (m) => {
      const denoisers = (m.components as Record<string, unknown>).denoisers as Array<Record<string, unknown>>;
      const first = denoisers[0];
      if (first !== undefined) first.minTimestep = 900;
    });
    await rejectsNaming(validateModelPackage(dir), "components.denoisers");
  }));

test("a component with the wrong inputs is rejected naming file and inputs", () =>
  withModel(async (dir) => {
    await copyFile(join(dir, "text_encoder.onnx"), join(dir, "vae_decoder.onnx"));
    await rejectsNaming(validateModelPackage(dir), "vae_decoder.onnx", "inputs");
  }));

test("a file onnxruntime cannot parse is rejected with its name", () =>
  withModel(async (dir) => {
    await writeFile(join(dir, "text_encoder.onnx"), "not onnx");
    await rejectsNaming(validateModelPackage(dir), "text_encoder.onnx");
  }));
