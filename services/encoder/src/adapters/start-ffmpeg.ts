import { spawn } from "node:child_process";
import { once } from "node:events";
import { type EncodeSettings, type EncodeTarget, ffmpegArgs } from "../domain/ffmpeg-args.js";

export interface FrameSink {
  /** Resolves when ffmpeg has taken the frames (back-pressure). */
  write(rgb24: Uint8Array): Promise<void>;
  /** Closes stdin and waits for ffmpeg to finish the file. */
  finish(): Promise<void>;
  abort(): void;
}

/** Starts ffmpeg writing `outFile`; frames are piped to its stdin. */
export function startFfmpeg(ffmpegPath: string, t: EncodeTarget, s: EncodeSettings, outFile: string): FrameSink {
  const child = spawn(ffmpegPath, ffmpegArgs(t, s, outFile), { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-4_000);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", (err) => reject(new Error(`ffmpeg could not start: ${err.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg exited with ${code ?? signal}: ${stderr.trim() || "no output"}`));
    });
  });
  // Reported through finish(); an early exit must not crash the process.
  exited.catch(() => undefined);
  child.stdin.on("error", () => undefined);

  return {
    async write(rgb24) {
      if (!child.stdin.write(rgb24)) await Promise.race([once(child.stdin, "drain"), exited]);
    },
    async finish() {
      child.stdin.end();
      await exited;
    },
    abort() {
      child.kill("SIGKILL");
    },
  };
}
