import { ModelPackageError } from "./errors.js";

// manifest.json of a model package. See README.md ("Model package contract") for meaning and units.

export const MANIFEST_FORMAT = "t2v-model-package/1";

export interface ComponentFile {
  file: string;
}

export interface DenoiserExpert extends ComponentFile {
  name: string;
  /** Serves timesteps t (0..numTrainTimesteps) with minTimestep <= t < maxTimestep; the top expert also serves t = maxTimestep. */
  minTimestep: number;
  maxTimestep: number;
  /** CFG scale for this expert's steps (Wan2.2-A14B: 4.0 high-noise, 3.0 low-noise); default sampler.guidanceScale. */
  guidanceScale?: number;
}

export interface VaeDecoderComponent extends ComponentFile {
  /** New latent frames per decoder call (each call also gets one context frame). */
  chunkLatentFrames: number;
}

export interface TokenizerSpec {
  /** utf8-bytes: id = byte + byteOffset, wrapped in BOS/EOS, truncated and right-padded to maxLength. */
  kind: "utf8-bytes";
  vocabSize: number;
  maxLength: number;
  padId: number;
  bosId: number;
  eosId: number;
  byteOffset: number;
}

export interface LatentGeometry {
  channels: number;
  temporalCompression: number;
  spatialCompression: number;
  /** DiT patch size [t, h, w]; informational for exporters, the runtime never patchifies. */
  patchSize: [number, number, number];
}

export interface SamplerSpec {
  kind: "flow-matching-euler";
  shift: number;
  defaultSteps: number;
  guidanceScale: number;
  /** Timestep at which the high-noise expert hands over to the low-noise one. */
  boundaryTimestep: number;
  numTrainTimesteps: number;
}

export interface Resolution {
  name: string;
  width: number;
  height: number;
}

/** Latent-to-RGB map for live previews (ComfyUI's latent_rgb_factors, plus two optional steps). */
export interface PreviewSpec {
  /** One [r, g, b] row per latent channel. */
  latentRgbFactors: number[][];
  /** [r, g, b] added after the sum. */
  latentRgbBias: number[];
  /** "linear" (default): the sum is the 0..255 colour; "sigmoid": the sum is a logit, colour = 255 sigmoid(sum). */
  activation?: "linear" | "sigmoid";
  /** Separable low-pass taps (odd count) applied at latent resolution before the activation; default none. */
  smoothing?: number[];
}

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  version: string;
  description?: string;
  components: { textEncoder: ComponentFile; denoisers: DenoiserExpert[]; vaeDecoder: VaeDecoderComponent };
  tokenizer: TokenizerSpec;
  latent: LatentGeometry;
  sampler: SamplerSpec;
  resolutions: Resolution[];
  frameRates: number[];
  maxDurationSeconds: number;
  /** Optional; without it previews use a fixed projection of the first three channels. */
  preview?: PreviewSpec;
}

/** Checks a parsed manifest.json field by field; errors name the JSON path at fault. */
export function parseManifest(value: unknown, source = "manifest.json"): ModelManifest {
  const r = new FieldReader(source);
  const m = r.obj(value, "");
  if (m.format !== MANIFEST_FORMAT) r.fail("format", `must be "${MANIFEST_FORMAT}"`);
  const c = r.obj(m.components, "components");
  const te = r.obj(c.textEncoder, "components.textEncoder");
  const vd = r.obj(c.vaeDecoder, "components.vaeDecoder");
  const denoisersRaw = c.denoisers;
  if (!Array.isArray(denoisersRaw) || denoisersRaw.length === 0)
    r.fail("components.denoisers", "must be a non-empty array");
  const denoisers = (denoisersRaw as unknown[]).map((d, i): DenoiserExpert => {
    const p = `components.denoisers[${i}]`;
    const o = r.obj(d, p);
    return {
      name: r.str(o, "name", p),
      file: r.str(o, "file", p),
      minTimestep: r.num(o, "minTimestep", p),
      maxTimestep: r.num(o, "maxTimestep", p),
      ...(o.guidanceScale !== undefined ? { guidanceScale: r.num(o, "guidanceScale", p) } : {}),
    };
  });
  const tk = r.obj(m.tokenizer, "tokenizer");
  if (tk.kind !== "utf8-bytes") r.fail("tokenizer.kind", 'must be "utf8-bytes"');
  const lt = r.obj(m.latent, "latent");
  const patch = lt.patchSize;
  if (!Array.isArray(patch) || patch.length !== 3 || !patch.every((v) => Number.isInteger(v) && v > 0))
    r.fail("latent.patchSize", "must be three positive integers");
  const sp = r.obj(m.sampler, "sampler");
  if (sp.kind !== "flow-matching-euler") r.fail("sampler.kind", 'must be "flow-matching-euler"');
  const resRaw = m.resolutions;
  if (!Array.isArray(resRaw) || resRaw.length === 0) r.fail("resolutions", "must be a non-empty array");
  const fpsRaw = m.frameRates;
  if (!Array.isArray(fpsRaw) || fpsRaw.length === 0 || !fpsRaw.every((v) => Number.isInteger(v) && v > 0))
    r.fail("frameRates", "must be a non-empty array of positive integers");

  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    name: r.str(m, "name", ""),
    version: r.str(m, "version", ""),
    ...(typeof m.description === "string" ? { description: m.description } : {}),
    components: {
      textEncoder: { file: r.str(te, "file", "components.textEncoder") },
      denoisers,
      vaeDecoder: {
        file: r.str(vd, "file", "components.vaeDecoder"),
        chunkLatentFrames: r.int(vd, "chunkLatentFrames", "components.vaeDecoder", 1),
      },
    },
    tokenizer: {
      kind: "utf8-bytes",
      vocabSize: r.int(tk, "vocabSize", "tokenizer", 259),
      maxLength: r.int(tk, "maxLength", "tokenizer", 3),
      padId: r.int(tk, "padId", "tokenizer", 0),
      bosId: r.int(tk, "bosId", "tokenizer", 0),
      eosId: r.int(tk, "eosId", "tokenizer", 0),
      byteOffset: r.int(tk, "byteOffset", "tokenizer", 0),
    },
    latent: {
      channels: r.int(lt, "channels", "latent", 1),
      temporalCompression: r.int(lt, "temporalCompression", "latent", 1),
      spatialCompression: r.int(lt, "spatialCompression", "latent", 1),
      patchSize: patch as [number, number, number],
    },
    sampler: {
      kind: "flow-matching-euler",
      shift: r.num(sp, "shift", "sampler"),
      defaultSteps: r.int(sp, "defaultSteps", "sampler", 1),
      guidanceScale: r.num(sp, "guidanceScale", "sampler"),
      boundaryTimestep: r.num(sp, "boundaryTimestep", "sampler"),
      numTrainTimesteps: r.int(sp, "numTrainTimesteps", "sampler", 1),
    },
    resolutions: (resRaw as unknown[]).map((v, i) => {
      const p = `resolutions[${i}]`;
      const o = r.obj(v, p);
      return { name: r.str(o, "name", p), width: r.int(o, "width", p, 1), height: r.int(o, "height", p, 1) };
    }),
    frameRates: fpsRaw as number[],
    maxDurationSeconds: r.num(m, "maxDurationSeconds", ""),
    ...(m.preview !== undefined ? { preview: parsePreview(r, m.preview) } : {}),
  };
  checkConsistency(manifest, r);
  return manifest;
}

function parsePreview(r: FieldReader, value: unknown): PreviewSpec {
  const o = r.obj(value, "preview");
  const triple = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number" && Number.isFinite(x));
  const factors = o.latentRgbFactors;
  if (!Array.isArray(factors) || !factors.every(triple))
    r.fail("preview.latentRgbFactors", "must be an array of [r, g, b] number triples, one per latent channel");
  if (!triple(o.latentRgbBias)) r.fail("preview.latentRgbBias", "must be an [r, g, b] number triple");
  const activation = o.activation;
  if (activation !== undefined && activation !== "linear" && activation !== "sigmoid")
    r.fail("preview.activation", 'must be "linear" or "sigmoid"');
  const smoothing = o.smoothing;
  if (
    smoothing !== undefined &&
    (!Array.isArray(smoothing) ||
      smoothing.length % 2 !== 1 ||
      !smoothing.every((x) => typeof x === "number" && Number.isFinite(x)))
  )
    r.fail("preview.smoothing", "must be an odd-length array of numbers");
  return {
    latentRgbFactors: factors as number[][],
    latentRgbBias: o.latentRgbBias,
    ...(activation !== undefined ? { activation } : {}),
    ...(smoothing !== undefined ? { smoothing: smoothing as number[] } : {}),
  };
}

function checkConsistency(m: ModelManifest, r: FieldReader): void {
  const t = m.tokenizer;
  if (t.byteOffset + 256 > t.vocabSize) r.fail("tokenizer.vocabSize", "must hold byteOffset + 256 byte ids");
  if (m.sampler.shift <= 0) r.fail("sampler.shift", "must be > 0");
  const top = m.sampler.numTrainTimesteps;
  // The experts must tile [0, numTrainTimesteps] so every step has exactly one expert.
  const sorted = [...m.components.denoisers].sort((a, b) => a.minTimestep - b.minTimestep);
  let edge = 0;
  sorted.forEach((d) => {
    if (d.minTimestep !== edge || d.maxTimestep <= d.minTimestep)
      r.fail(`components.denoisers (${d.name})`, `timestep ranges must tile [0, ${top}] without gaps or overlaps`);
    edge = d.maxTimestep;
  });
  if (edge !== top) r.fail("components.denoisers", `timestep ranges must end at numTrainTimesteps (${top})`);
  if (sorted.length > 1 && !sorted.some((d) => d.minTimestep === m.sampler.boundaryTimestep)) {
    r.fail("sampler.boundaryTimestep", "must equal the minTimestep of an expert");
  }
  if (m.preview !== undefined && m.preview.latentRgbFactors.length !== m.latent.channels)
    r.fail("preview.latentRgbFactors", `must have one row per latent channel (${m.latent.channels})`);
  m.resolutions.forEach((res, i) => {
    if (res.width % m.latent.spatialCompression !== 0 || res.height % m.latent.spatialCompression !== 0) {
      r.fail(
        `resolutions[${i}]`,
        `width and height must be multiples of latent.spatialCompression (${m.latent.spatialCompression})`,
      );
    }
  });
}

class FieldReader {
  constructor(private readonly source: string) {}

  fail(path: string, problem: string): never {
    throw new ModelPackageError(`${this.source}: field "${path || "(root)"}" ${problem}`);
  }

  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(path, "must be an object");
    return v as Record<string, unknown>;
  }

  str(o: Record<string, unknown>, key: string, path: string): string {
    const v = o[key];
    if (typeof v !== "string" || v === "") this.fail(join(path, key), "must be a non-empty string");
    return v;
  }

  num(o: Record<string, unknown>, key: string, path: string): number {
    const v = o[key];
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(join(path, key), "must be a finite number");
    return v;
  }

  int(o: Record<string, unknown>, key: string, path: string, min: number): number {
    const v = o[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min)
      this.fail(join(path, key), `must be an integer >= ${min}`);
    return v;
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}
