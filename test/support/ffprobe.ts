import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface VideoFacts {
  codec: string;
  width: number;
  height: number;
  frames: number;
  frameRate: string;
  pixFmt: string;
}

/** Reads the facts of the first video stream by decoding every frame. */
export async function probeVideo(file: string): Promise<VideoFacts> {
  const { stdout } = await run("ffprobe", [
    "-v",
    "error",
    "-count_frames",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=codec_name,width,height,nb_read_frames,r_frame_rate,pix_fmt",
    "-of",
    "json",
    file,
  ]);
  const s = (JSON.parse(stdout) as { streams: Record<string, string | number>[] }).streams[0];
  if (!s) throw new Error(`${file} has no video stream`);
  return {
    codec: String(s.codec_name),
    width: Number(s.width),
    height: Number(s.height),
    frames: Number(s.nb_read_frames),
    frameRate: String(s.r_frame_rate),
    pixFmt: String(s.pix_fmt),
  };
}
