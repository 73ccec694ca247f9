import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { ModelPackageError } from "../errors.js";

export type ProviderName = "cuda" | "cpu";

export interface SessionOptions {
  provider: ProviderName;
  intraOpThreads: number;
}

export function createSession(path: string, file: string, opts: SessionOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    executionProviders: [opts.provider],
    intraOpNumThreads: opts.intraOpThreads,
    interOpNumThreads: 1,
    // Shapes change with every request (resolution, clip length), so pre-planned memory patterns
    // buy nothing and grow the arena: measured ~1.7 GB -> ~1.0 GB for a 720p/10 s denoiser step.
    enableMemPattern: false,
    graphOptimizationLevel: "all",
    // onnxruntime's pool threads busy-wait between ops by default; on a shared
    // CPU that starves the NATS client and the other services of the node.
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  }).catch((err: unknown) => {
    throw new ModelPackageError(`${file}: onnxruntime cannot load it on ${opts.provider} (${(err as Error).message})`);
  });
}

/**
 * Opens the first component with each provider in turn. Asking onnxruntime-node for cuda without
 * its libraries throws rather than falling back, so the fallback is done here; the provider that
 * worked is then used for every other component.
 */
export async function openWithFallback(
  path: string,
  file: string,
  providers: string[],
  intraOpThreads: number,
): Promise<{ session: ort.InferenceSession; provider: ProviderName }> {
  const failures: string[] = [];
  for (const name of providers) {
    const provider = name.toLowerCase();
    if (provider !== "cuda" && provider !== "cpu") {
      failures.push(`${name}: not supported by this runtime`);
      continue;
    }
    const missing = provider === "cuda" ? missingCudaLibrary() : undefined;
    if (missing !== undefined) {
      // Checked up front: onnxruntime prints a long native error to stderr when the library is absent.
      failures.push(`cuda: ${missing}`);
      continue;
    }
    try {
      return { session: await createSession(path, file, { provider, intraOpThreads }), provider };
    } catch (err) {
      failures.push(`${provider}: ${(err as Error).message}`);
    }
  }
  throw new ModelPackageError(
    `${file}: no execution provider could load it (${failures.join("; ") || "none requested"})`,
  );
}

/** Describes why the CUDA provider cannot load (its shared library is not installed), or undefined if it may. */
function missingCudaLibrary(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
    const lib = join(dirname(entry), "..", "bin", "napi-v6", platform(), arch(), "libonnxruntime_providers_cuda.so");
    return platform() === "linux" && !existsSync(lib) ? `provider library not installed (${lib})` : undefined;
  } catch {
    return undefined;
  }
}
