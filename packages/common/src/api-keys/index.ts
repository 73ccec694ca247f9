// The `@t2v/common/api-keys` entry: API keys and tenants, shared by the gateway and the CLI.
export {
  apiKeyMatches,
  apiKeyPrefix,
  hashApiKey,
  isTenantId,
  type MintedKey,
  mintApiKey,
  mintWebhookSecret,
} from "./api-key-format.js";
export { type ApiKeyStore, type CreatedKey, createApiKeyStore, openApiKeyStore } from "./api-key-store.js";
export { type CachedApiKeyStore, openCachedApiKeyStore } from "./cached-api-key-store.js";
export { withApiKeyStore } from "./with-api-key-store.js";
