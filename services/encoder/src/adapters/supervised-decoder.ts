import { type EngineSupervisor, isEngineLost } from "@t2v/common/process";
import type { Decoder } from "@t2v/model";

export type DecoderEngine = Pick<Decoder, "decode">;

/**
 * The decoder the encoder uses, always the supervisor's current one. A decode
 * that fails because the engine thread died reports it to the supervisor
 * before the caller sees the error.
 */
export function supervisedDecoder(supervisor: EngineSupervisor<DecoderEngine>): DecoderEngine {
  return {
    decode(latents, target, onFrames) {
      const engine = supervisor.current();
      return engine.decode(latents, target, onFrames).catch((err: unknown) => {
        if (isEngineLost(err)) supervisor.lost(engine, err);
        throw err;
      });
    },
  };
}
