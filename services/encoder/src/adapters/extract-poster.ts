import { spawn } from "node:child_process";
import { posterArgs } from "../domain/ffmpeg-args.js";

/** Writes the first frame of `videoFile` to `jpegFile`. */
export function extractPoster(ffmpegPath: string, videoFile: string, jpegFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, posterArgs(videoFile, jpegFile), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`poster extraction failed: ${stderr.trim()}`)),
    );
  });
}
