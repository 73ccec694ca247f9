import { type EngineSupervisor, isEngineLost } from "@t2v/common/process";
import type { GeneratorEngine } from "./generator-engine.js";

/**
 * The generator the worker uses, always the supervisor's current one. A call
 * that fails because the engine thread died reports it to the supervisor
 * before the caller sees the error, so the work loop already waits for the
 * restart when the failed job lets go of the model.
 */
export function supervisedGenerator(supervisor: EngineSupervisor<GeneratorEngine>): GeneratorEngine {
  const reporting =
    (engine: GeneratorEngine) =>
    (err: unknown): never => {
      if (isEngineLost(err)) supervisor.lost(engine, err);
      throw err;
    };
  return {
    get info() {
      return supervisor.current().info;
    },
    generate(spec, hooks) {
      const engine = supervisor.current();
      return engine.generate(spec, hooks).catch(reporting(engine));
    },
    prepare(texts) {
      const engine = supervisor.current();
      return engine.prepare(texts).catch(reporting(engine));
    },
  };
}
