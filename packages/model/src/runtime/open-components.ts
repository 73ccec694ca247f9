import type * as ort from "onnxruntime-node";
import {
  type ComponentRef,
  checkSessionContract,
  listComponents,
  readManifest,
  requireComponentFile,
} from "../load-model-package.js";
import type { ModelManifest } from "../manifest.js";
import { createSession, openWithFallback, type ProviderName } from "./session-factory.js";

export interface OpenedComponents {
  manifest: ModelManifest;
  provider: ProviderName;
  sessions: Map<string, ort.InferenceSession>;
}

/**
 * Reads the manifest, checks every component file exists, and opens (and contract-checks) the
 * components this engine needs. The first one picks the execution provider.
 */
export async function openComponents(
  modelDir: string,
  wanted: (c: ComponentRef) => boolean,
  providers: string[],
  intraOpThreads: number,
): Promise<OpenedComponents> {
  const manifest = await readManifest(modelDir);
  const all = listComponents(manifest);
  for (const c of all) await requireComponentFile(modelDir, c.file);
  const sessions = new Map<string, ort.InferenceSession>();
  let provider: ProviderName | undefined;
  for (const c of all.filter(wanted)) {
    const path = await requireComponentFile(modelDir, c.file);
    let session: ort.InferenceSession;
    if (provider === undefined) {
      const opened = await openWithFallback(path, c.file, providers, intraOpThreads);
      session = opened.session;
      provider = opened.provider;
    } else {
      session = await createSession(path, c.file, { provider, intraOpThreads });
    }
    checkSessionContract(session, c, manifest);
    sessions.set(c.file, session);
  }
  if (provider === undefined) throw new Error("no components selected");
  return { manifest, provider, sessions };
}

export function sessionFor(opened: OpenedComponents, file: string): ort.InferenceSession {
  const s = opened.sessions.get(file);
  if (s === undefined) throw new Error(`component ${file} is not open in this engine`);
  return s;
}
