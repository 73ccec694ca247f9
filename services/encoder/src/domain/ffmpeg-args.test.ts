import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ffmpegArgs } from "./ffmpeg-args.js";

describe("ffmpegArgs", () => {
  const args = ffmpegArgs(
    { width: 832, height: 480, frameRate: 24, numFrames: 72 },
    { preset: "veryfast", crf: 23, threads: 0 },
    "/t/o.mp4",
  );
  const after = (flag: string) => args[args.indexOf(flag) + 1];

  it("reads raw rgb24 of the right size and rate from stdin", () => {
    assert.equal(after("-f"), "rawvideo");
    assert.equal(after("-pix_fmt"), "rgb24");
    assert.equal(after("-s"), "832x480");
    assert.equal(after("-framerate"), "24");
    assert.equal(after("-i"), "pipe:0");
  });
  it("writes exactly the asked frames as playable H.264", () => {
    assert.equal(after("-frames:v"), "72");
    assert.equal(after("-c:v"), "libx264");
    assert.equal(args[args.lastIndexOf("-pix_fmt") + 1], "yuv420p");
    assert.equal(after("-movflags"), "+faststart");
    assert.equal(args.at(-1), "/t/o.mp4");
  });
});
