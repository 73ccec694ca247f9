export interface EncodeTarget {
  width: number;
  height: number;
  frameRate: number;
  numFrames: number;
}

export interface EncodeSettings {
  preset: string;
  crf: number;
  /** libx264 threads; 0 lets x264 choose (about 1.5 per core). */
  threads: number;
}

/**
 * ffmpeg arguments that read raw rgb24 frames from stdin and write an H.264
 * MP4 that plays everywhere: yuv420p, moov atom first for progressive
 * download, exactly `numFrames` frames at the requested rate.
 */
export function ffmpegArgs(t: EncodeTarget, s: EncodeSettings, outFile: string): string[] {
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "-s",
    `${t.width}x${t.height}`,
    "-framerate",
    String(t.frameRate),
    "-i",
    "pipe:0",
    "-frames:v",
    String(t.numFrames),
    "-c:v",
    "libx264",
    "-preset",
    s.preset,
    "-crf",
    String(s.crf),
    "-threads",
    String(s.threads),
    "-pix_fmt",
    "yuv420p",
    "-r",
    String(t.frameRate),
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
    "-y",
    outFile,
  ];
}

/** ffmpeg arguments that write the first frame of a video as a JPEG poster. */
export function posterArgs(videoFile: string, jpegFile: string): string[] {
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    "-i",
    videoFile,
    "-frames:v",
    "1",
    "-q:v",
    "3",
    "-f",
    "image2",
    "-y",
    jpegFile,
  ];
}
