import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { ModelPackageError } from "./errors.js";
import { type ModelManifest, parseManifest } from "./manifest.js";
import { type ComponentKind, componentContract, type TensorContract } from "./model-contract.js";

export interface ComponentRef {
  kind: ComponentKind;
  file: string;
}

/** Reads and checks manifest.json (no ONNX loading). */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, "manifest.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new ModelPackageError(`manifest.json: not found in ${dir}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelPackageError(`manifest.json: not valid JSON (${(err as Error).message})`);
  }
  return parseManifest(json);
}

export function listComponents(m: ModelManifest): ComponentRef[] {
  return [
    { kind: "textEncoder", file: m.components.textEncoder.file },
    ...m.components.denoisers.map((d): ComponentRef => ({ kind: "denoiser", file: d.file })),
    { kind: "vaeDecoder", file: m.components.vaeDecoder.file },
  ];
}

/** Fails with a message naming the file when an ONNX component is absent. */
export async function requireComponentFile(dir: string, file: string): Promise<string> {
  const path = join(dir, file);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile()) throw new ModelPackageError(`${file}: component file missing from ${dir}`);
  return path;
}

/**
 * Validates a model package: the manifest, that every ONNX file exists and loads, and that
 * input/output names, ranks and dtypes match the contract. Returns the manifest.
 */
export async function validateModelPackage(dir: string): Promise<ModelManifest> {
  const manifest = await readManifest(dir);
  for (const c of listComponents(manifest)) {
    const path = await requireComponentFile(dir, c.file);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, {
        executionProviders: ["cpu"],
        graphOptimizationLevel: "disabled",
      });
    } catch (err) {
      throw new ModelPackageError(`${c.file}: onnxruntime cannot load it (${(err as Error).message})`);
    }
    try {
      checkSessionContract(session, c, manifest);
    } finally {
      await session.release();
    }
  }
  return manifest;
}

/** Compares a loaded session's inputs/outputs with the contract for its component kind. */
export function checkSessionContract(session: ort.InferenceSession, c: ComponentRef, m: ModelManifest): void {
  const contract = componentContract(c.kind, m);
  checkSide(c.file, "input", session.inputNames, session.inputMetadata, contract.inputs);
  checkSide(c.file, "output", session.outputNames, session.outputMetadata, contract.outputs);
}

function checkSide(
  file: string,
  side: "input" | "output",
  names: readonly string[],
  metadata: readonly ort.InferenceSession.ValueMetadata[] | undefined,
  expected: TensorContract[],
): void {
  const want = expected.map((e) => e.name);
  const missing = want.filter((n) => !names.includes(n));
  const extra = names.filter((n) => !want.includes(n));
  if (missing.length > 0 || extra.length > 0) {
    throw new ModelPackageError(`${file}: ${side}s are [${names.join(", ")}], contract wants [${want.join(", ")}]`);
  }
  for (const e of expected) {
    const meta = metadata?.find((v) => v.name === e.name);
    // Metadata is optional in older onnxruntime builds; names alone are then what we can check.
    if (meta === undefined) continue;
    if (!meta.isTensor) throw new ModelPackageError(`${file}: ${side} "${e.name}" must be a tensor`);
    if (meta.type !== e.dtype)
      throw new ModelPackageError(`${file}: ${side} "${e.name}" has dtype ${meta.type}, contract wants ${e.dtype}`);
    if (meta.shape.length !== e.dims.length) {
      throw new ModelPackageError(
        `${file}: ${side} "${e.name}" has rank ${meta.shape.length}, contract wants ${e.dims.length} [${e.dims.join(", ")}]`,
      );
    }
    e.dims.forEach((d, i) => {
      const got = meta.shape[i];
      if (typeof d === "number" && typeof got === "number" && got !== d) {
        throw new ModelPackageError(`${file}: ${side} "${e.name}" dim ${i} is ${got}, contract wants ${d}`);
      }
    });
  }
}
