import type { Decoder, DecodeTarget, EngineOptions, Latents } from "../api-types.js";
import { EngineClient } from "./engine-client.js";
import { deserializeError } from "./error-transport.js";
import { checkDecodeRequest } from "./spec-check.js";

type FrameCallback = (rgb24: Uint8Array, frameCount: number) => Promise<void> | void;

/** Starts a decoder worker (VAE decoder session only). */
export async function startDecoder(opts: EngineOptions): Promise<Decoder> {
  const client = await EngineClient.start("decoder", opts);
  return {
    info: client.info,
    decode: (latents, target, onFrames) => decode(client, latents, target, onFrames),
    close: () => client.close(),
  };
}

function decode(client: EngineClient, latents: Latents, target: DecodeTarget, onFrames: FrameCallback): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    checkDecodeRequest(latents, target, client.manifest);
    // The worker gets its own copy: transferring the caller's buffer would detach their array.
    const data = latents.data.slice().buffer as ArrayBuffer;
    const plainTarget: DecodeTarget = { width: target.width, height: target.height, numFrames: target.numFrames };
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const id = client.call(
      (callId) => ({
        msg: { type: "decode", id: callId, dims: [...latents.dims], data, target: plainTarget },
        transfer: [data],
      }),
      {
        onMessage: (msg) => {
          switch (msg.type) {
            case "frames":
              // Back-pressure: the worker decodes the next chunk only after onFrames settles.
              Promise.resolve()
                .then(() => onFrames(new Uint8Array(msg.data), msg.frameCount))
                .then(
                  () => client.send({ type: "frames-ack", id, stop: false }),
                  (err: unknown) => {
                    client.send({ type: "frames-ack", id, stop: true });
                    client.forget(id);
                    fail(err instanceof Error ? err : new Error(String(err)));
                  },
                );
              return false;
            case "done":
              if (!settled) {
                settled = true;
                resolve();
              }
              return true;
            case "error":
              fail(deserializeError(msg.error));
              return true;
            default:
              return false;
          }
        },
        onFailure: fail,
      },
    );
  });
}
