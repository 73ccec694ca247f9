import { createHash, type Hash } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { type BlobInfo, type BlobRange, type BlobStore, checkBlobRange } from "../bus/bus.js";
import { readStream } from "../bus/read-stream.js";

/** SigV4 presigned URLs cannot live longer than this (S3 refuses `X-Amz-Expires` above it). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** 8 MiB parts: above S3's 5 MiB minimum, and a 720p clip of a few MB still goes up in one request. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** Metadata key (sent as `x-amz-meta-sha256`) carrying the hex SHA-256 of what this store uploaded. */
export const SHA256_METADATA_KEY = "sha256";

export interface PresignGetOptions {
  /** Served as the response's Content-Type (`response-content-type`), whatever the object was stored with. */
  readonly contentType: string;
  /** Suggested download name (`response-content-disposition`). */
  readonly filename?: string;
  /** `inline` (the default) lets a `<video>` or a browser tab play it; `attachment` makes browsers save it. */
  readonly disposition?: "inline" | "attachment";
}

/** A store whose objects can be handed to clients as links of the store itself, so downloads skip the gateway. */
export interface ResultLinks {
  /** A presigned GET URL valid for `expiresInSeconds`, clamped to 1..604800 (7 days). */
  presignGet(name: string, expiresInSeconds: number, opts: PresignGetOptions): Promise<string>;
}

/** How an upload was checked after it completed; reported through `onUpload`. */
export type VerificationMethod =
  /** The server computed SHA-256 itself (x-amz-checksum-sha256, full or composite) and it matched ours. */
  | "server-checksum"
  /** The server reports no checksum: the object was read back and hashed. */
  | "read-back"
  /** No server checksum and read-back off: only the size (and our own metadata) were compared. */
  | "size-only";

export interface UploadReport {
  readonly name: string;
  readonly key: string;
  readonly size: number;
  /** 1 for a single PutObject. */
  readonly parts: number;
  readonly verification: VerificationMethod;
  /** Whole uploads made (2 when the first failed verification and was redone). */
  readonly attempts: number;
  readonly ms: number;
}

export interface S3BlobStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every name; a `/` is added when missing (`results` -> `results/x.mp4`). */
  readonly prefix?: string;
  readonly partSizeBytes?: number;
  /** Parts in flight per multipart upload. */
  readonly queueSize?: number;
  /**
   * `sha256` asks the SDK to send x-amz-checksum-sha256 on every PutObject and UploadPart (servers with
   * flexible checksums reject a corrupted body and report the checksum on HeadObject); `off` sends none,
   * for servers that refuse the header.
   */
  readonly checksum?: "sha256" | "off";
  /**
   * When the server reports no SHA-256 after an upload (s3rver, Alibaba OSS, older MinIO), read the object
   * back and hash it: the only content check that works on every server. Default true.
   */
  readonly readBack?: boolean;
  /**
   * Signs links for another endpoint than the one uploads go to: the public name of a MinIO inside the
   * cluster, or OSS's public endpoint while uploads use `-internal`. SigV4 signs the host, so a link cannot
   * be re-pointed after signing. Default: `client`.
   */
  readonly linkClient?: S3Client;
  /** Called once per successful put, for logs and metrics. */
  readonly onUpload?: (report: UploadReport) => void;
}

export interface S3BlobStore extends BlobStore, ResultLinks {
  readonly bucket: string;
  readonly prefix: string;
  /** The object key a name is stored under. */
  key(name: string): string;
  /** Fails with the SDK's error when the bucket is missing or the credentials cannot reach it: call at start-up. */
  check(): Promise<void>;
  /** Deletes every object whose name starts with `namePrefix` (a task's video and poster); returns how many. */
  deleteByPrefix(namePrefix: string): Promise<number>;
}

/** An upload that completed at the protocol level but whose object does not hold what was sent. */
export class StoreVerificationError extends Error {
  constructor(
    readonly key: string,
    readonly reason: "missing" | "size" | "checksum",
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`object ${key} failed verification (${reason}): expected ${expected}, found ${actual}`);
    this.name = "StoreVerificationError";
  }
}

/** What we sent, computed while sending it. */
interface Sent {
  readonly size: number;
  /** Raw SHA-256 of the whole content. */
  readonly sha256: Buffer;
  /** Raw SHA-256 of each part, in order (one entry for a single PutObject). */
  readonly partSha256: readonly Buffer[];
}

export function createS3BlobStore(opts: S3BlobStoreOptions): S3BlobStore {
  const { client, bucket } = opts;
  const prefix = normalizePrefix(opts.prefix ?? "");
  const partSize = opts.partSizeBytes ?? DEFAULT_PART_SIZE;
  const queueSize = opts.queueSize ?? 2;
  const checksumOn = (opts.checksum ?? "sha256") === "sha256";
  const readBack = opts.readBack ?? true;
  const key = (name: string): string => `${prefix}${name}`;

  async function head(k: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: k, ...(checksumOn ? { ChecksumMode: "ENABLED" } : {}) }),
      );
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async function putSmall(k: string, bytes: Uint8Array): Promise<Sent> {
    const sha256 = createHash("sha256").update(bytes).digest();
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: k,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentType: contentTypeOf(k),
        Metadata: { [SHA256_METADATA_KEY]: sha256.toString("hex") },
        // Handing the SDK our digest saves it hashing the body a second time.
        ...(checksumOn ? { ChecksumAlgorithm: "SHA256", ChecksumSHA256: sha256.toString("base64") } : {}),
      }),
    );
    return { size: bytes.byteLength, sha256, partSha256: [sha256] };
  }

  async function putMultipart(k: string, data: Uint8Array | ReadableStream<Uint8Array>): Promise<Sent> {
    const hasher = new PartHasher(partSize);
    // A byte array's digest is known before the upload starts, so it can travel as metadata; a stream's is not
    // (S3 takes metadata at CreateMultipartUpload), which is why verification also compares server checksums
    // or reads the object back rather than trusting metadata alone.
    const known = data instanceof Uint8Array ? createHash("sha256").update(data).digest("hex") : undefined;
    const body =
      data instanceof Uint8Array
        ? Readable.from(hashChunks(sliceChunks(data, partSize), hasher))
        : Readable.from(hashChunks(readStream(data), hasher));
    const upload = new Upload({
      client,
      partSize,
      queueSize,
      // We abort ourselves: lib-storage 3.1175 rethrows a failed AbortMultipartUpload in place of the part's
      // own error, which would hide why the upload failed.
      leavePartsOnError: true,
      params: {
        Bucket: bucket,
        Key: k,
        Body: body,
        ContentType: contentTypeOf(k),
        ...(known ? { Metadata: { [SHA256_METADATA_KEY]: known } } : {}),
        ...(checksumOn ? { ChecksumAlgorithm: "SHA256" } : {}),
      },
    });
    try {
      await upload.done();
    } catch (err) {
      // Nothing of a multipart upload is visible until it completes; aborting frees the parts' storage (a
      // lifecycle rule cleans up what an abort that fails leaves behind).
      if (upload.uploadId !== undefined) {
        await client
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: k, UploadId: upload.uploadId }))
          .catch((abortError: unknown) => {
            if (err instanceof Error && err.cause === undefined) err.cause = abortError;
          });
      }
      throw err;
    } finally {
      body.destroy();
    }
    return hasher.result();
  }

  /** Throws StoreVerificationError unless the stored object is what was sent; returns how it was checked. */
  async function verify(k: string, sent: Sent): Promise<VerificationMethod> {
    const h = await head(k);
    if (!h) throw new StoreVerificationError(k, "missing", `${sent.size} bytes`, "no object");
    if (h.ContentLength !== sent.size) {
      throw new StoreVerificationError(k, "size", `${sent.size} bytes`, `${h.ContentLength ?? "unknown"} bytes`);
    }
    const meta = h.Metadata?.[SHA256_METADATA_KEY];
    if (meta !== undefined && meta !== sent.sha256.toString("hex")) {
      throw new StoreVerificationError(k, "checksum", `sha256 ${sent.sha256.toString("hex")}`, `metadata ${meta}`);
    }
    const reported = h.ChecksumSHA256;
    if (reported) {
      const expected = expectedServerChecksum(reported, sent);
      if (reported !== expected) throw new StoreVerificationError(k, "checksum", expected, reported);
      return "server-checksum";
    }
    if (!readBack) return "size-only";
    const actual = await hashObject(k);
    if (actual === null) throw new StoreVerificationError(k, "missing", `${sent.size} bytes`, "no object");
    if (!actual.equals(sent.sha256)) {
      throw new StoreVerificationError(k, "checksum", sent.sha256.toString("hex"), actual.toString("hex"));
    }
    return "read-back";
  }

  async function hashObject(k: string): Promise<Buffer | null> {
    const chunks = await streamKey(k);
    if (!chunks) return null;
    const h = createHash("sha256");
    for await (const c of chunks) h.update(c);
    return h.digest();
  }

  async function streamKey(k: string, range?: BlobRange): Promise<AsyncIterable<Uint8Array> | null> {
    // Only the bytes asked for leave the server; the body is read as the consumer pulls it.
    const bytes =
      range === undefined || (range.offset === 0 && range.length === undefined)
        ? undefined
        : `bytes=${range.offset}-${range.length === undefined ? "" : range.offset + range.length - 1}`;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k, Range: bytes }));
      if (!out.Body) return null;
      return readStream(out.Body.transformToWebStream());
    } catch (err) {
      if (isNotFound(err)) return null;
      // An offset at or past the end of an object that exists.
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416) return empty();
      throw err;
    }
  }

  async function deleteKey(k: string): Promise<void> {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  return {
    bucket,
    prefix,
    key,

    async put(name, data) {
      const k = key(name);
      const started = Date.now();
      const small = data instanceof Uint8Array && data.byteLength <= partSize;
      // A stream can be read once, so only byte arrays get the whole-upload retry; a failed stream upload
      // rejects and the caller (the encode attempt) is retried with a fresh stream.
      const tries = data instanceof Uint8Array ? 2 : 1;
      for (let attempt = 1; ; attempt++) {
        const sent = small ? await putSmall(k, data) : await putMultipart(k, data);
        try {
          const verification = await verify(k, sent);
          opts.onUpload?.({
            name,
            key: k,
            size: sent.size,
            parts: sent.partSha256.length,
            verification,
            attempts: attempt,
            ms: Date.now() - started,
          });
          return { size: sent.size, digest: digestOf(sent.sha256) };
        } catch (err) {
          // Never leave behind an object that reads as complete but is not what was sent.
          if (err instanceof StoreVerificationError) await deleteKey(k).catch(() => undefined);
          if (!(err instanceof StoreVerificationError) || attempt >= tries) throw err;
        }
      }
    },

    async get(name) {
      const chunks = await streamKey(key(name));
      if (!chunks) return null;
      const parts: Uint8Array[] = [];
      let size = 0;
      for await (const c of chunks) {
        parts.push(c);
        size += c.byteLength;
      }
      const out = new Uint8Array(size);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.byteLength;
      }
      return out;
    },

    async info(name): Promise<BlobInfo | null> {
      const h = await head(key(name));
      if (!h) return null;
      return { size: h.ContentLength ?? 0, digest: reportedDigest(h) };
    },

    async stream(name, range) {
      checkBlobRange(range);
      if (range?.length === 0) return (await head(key(name))) ? empty() : null;
      return streamKey(key(name), range);
    },

    delete: (name) => deleteKey(key(name)),

    async deleteByPrefix(namePrefix) {
      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: key(namePrefix), ContinuationToken: token }),
        );
        // One DeleteObject per key: a task has two objects, and DeleteObjects needs a Content-MD5 or checksum
        // header that not every S3-compatible server accepts.
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          await deleteKey(o.Key);
          deleted++;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return deleted;
    },

    async check() {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    },

    presignGet(name, expiresInSeconds, o) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key(name),
        ResponseContentType: o.contentType,
        ...(o.filename !== undefined
          ? { ResponseContentDisposition: contentDisposition(o.disposition ?? "inline", o.filename) }
          : {}),
      });
      return getSignedUrl(opts.linkClient ?? client, command, { expiresIn: clampExpiry(expiresInSeconds) });
    },
  };
}

/** Whole seconds in 1..604800: a fractional, zero or negative expiry would make a link that is dead on arrival. */
export function clampExpiry(seconds: number): number {
  if (!Number.isFinite(seconds)) return MAX_PRESIGN_SECONDS;
  return Math.min(MAX_PRESIGN_SECONDS, Math.max(1, Math.floor(seconds)));
}

/** The same form as the NATS and in-memory stores (`SHA-256=<base64url>`), so digests compare across backends. */
function digestOf(sha256: Buffer): string {
  return `SHA-256=${sha256.toString("base64url")}`;
}

/** info()'s digest: our metadata, else a full-object server checksum, else the ETag (still changes with the content). */
function reportedDigest(h: HeadObjectCommandOutput): string {
  const meta = h.Metadata?.[SHA256_METADATA_KEY];
  if (meta && /^[0-9a-f]{64}$/.test(meta)) return digestOf(Buffer.from(meta, "hex"));
  if (h.ChecksumSHA256 && !h.ChecksumSHA256.includes("-")) return digestOf(Buffer.from(h.ChecksumSHA256, "base64"));
  return `etag:${h.ETag ?? ""}`;
}

/**
 * S3 reports a multipart object's SHA-256 as a checksum of the parts' checksums with the part count
 * (`<base64>-<n>`, "COMPOSITE"), and a single PutObject's as the plain SHA-256 of the content.
 */
function expectedServerChecksum(reported: string, sent: Sent): string {
  if (!reported.includes("-")) return sent.sha256.toString("base64");
  const composite = createHash("sha256");
  for (const p of sent.partSha256) composite.update(p);
  return `${composite.digest("base64")}-${sent.partSha256.length}`;
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, "");
  return trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/** What the services store, so a direct GET of the object (not only a presigned one) gets a useful type. */
function contentTypeOf(key: string): string {
  if (key.endsWith(".mp4")) return "video/mp4";
  if (key.endsWith(".jpg") || key.endsWith(".jpeg")) return "image/jpeg";
  return "application/octet-stream";
}

function contentDisposition(kind: "inline" | "attachment", filename: string): string {
  // A plain ASCII fallback for old clients, and RFC 6266's filename* for the exact name.
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

async function* empty(): AsyncGenerator<Uint8Array> {}

export function isNotFound(err: unknown): boolean {
  if (err instanceof S3ServiceException) {
    return err.name === "NotFound" || err.name === "NoSuchKey" || err.$metadata.httpStatusCode === 404;
  }
  return false;
}

/**
 * Hashes the content as a whole and per part, splitting exactly where lib-storage does (every `partSize`
 * bytes), so a composite checksum reported by the server can be recomputed.
 */
class PartHasher {
  private readonly whole = createHash("sha256");
  private part: Hash = createHash("sha256");
  private inPart = 0;
  private size = 0;
  private readonly parts: Buffer[] = [];

  constructor(private readonly partSize: number) {}

  update(chunk: Uint8Array): void {
    this.whole.update(chunk);
    this.size += chunk.byteLength;
    let at = 0;
    while (at < chunk.byteLength) {
      const take = Math.min(this.partSize - this.inPart, chunk.byteLength - at);
      this.part.update(chunk.subarray(at, at + take));
      this.inPart += take;
      at += take;
      if (this.inPart === this.partSize) {
        this.parts.push(this.part.digest());
        this.part = createHash("sha256");
        this.inPart = 0;
      }
    }
  }

  result(): Sent {
    // A trailing partial part (or an empty body) is the last part; an exact multiple ends on a full part.
    const parts = this.inPart > 0 || this.parts.length === 0 ? [...this.parts, this.part.digest()] : this.parts;
    return { size: this.size, sha256: this.whole.digest(), partSha256: parts };
  }
}

async function* hashChunks(source: AsyncIterable<Uint8Array>, hasher: PartHasher): AsyncGenerator<Uint8Array> {
  for await (const c of source) {
    hasher.update(c);
    yield c;
  }
}

async function* sliceChunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size);
}
