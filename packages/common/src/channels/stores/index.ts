// The `@t2v/common/s3-store` entry: S3-compatible storage for results. Its own entry, so that
// services running on the embedded JetStream store never load the AWS SDK.

export { type OpenResultStoreOptions, openResultStore, type ResultStore } from "./open-result-store.js";
export {
  createS3ClientFromEnv,
  createS3LinkClientFromEnv,
  parseResultStore,
  type ResultStoreConfig,
  type ResultStoreTarget,
  resultStoreFields,
  s3ClientConfig,
} from "./result-store-config.js";
export {
  clampExpiry,
  createS3BlobStore,
  DEFAULT_PART_SIZE,
  MAX_PRESIGN_SECONDS,
  type PresignGetOptions,
  type ResultLinks,
  type S3BlobStore,
  type S3BlobStoreOptions,
  StoreVerificationError,
  type UploadReport,
  type VerificationMethod,
} from "./s3-blob-store.js";
