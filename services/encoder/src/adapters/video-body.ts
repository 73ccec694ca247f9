import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { Readable } from "node:stream";

/** Clips are a few MB; above this the MP4 is streamed instead of held in memory. */
export const MAX_BUFFERED_VIDEO_BYTES = 64 * 1024 * 1024;

/**
 * The finished MP4 as the store's put() takes it: bytes when small, so a store that verifies uploads
 * (S3) can redo a failed one by itself; a fresh stream of the file otherwise (a stream is read once).
 */
export async function videoBody(
  file: string,
  maxBuffered = MAX_BUFFERED_VIDEO_BYTES,
): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  const { size } = await stat(file);
  if (size <= maxBuffered) return new Uint8Array(await readFile(file));
  return Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
}
