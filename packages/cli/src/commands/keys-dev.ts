import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { withApiKeyStore } from "@t2v/common/api-keys";
import type { NatsSettings } from "@t2v/common/config";

/**
 * The local development key: created on the first `t2v up` for tenant "dev"
 * (standard tier) and kept in DATA_DIR/dev-api-key, so later runs reuse it.
 * Recreated when NATS no longer knows it (a wiped store).
 */
export async function ensureDevKey(nats: NatsSettings, dataDir: string): Promise<{ key: string; created: boolean }> {
  const file = join(dataDir, "dev-api-key");
  const saved = existsSync(file) ? (await readFile(file, "utf8")).trim() : "";
  return withApiKeyStore(nats, async (keys) => {
    if (saved !== "" && (await keys.verify(saved))) return { key: saved, created: false };
    const { key } = await keys.create({ tenantId: "dev", tier: "standard", name: "local development (t2v up)" });
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    return { key, created: true };
  });
}

/** The saved development key, for `t2v generate` run in another terminal without T2V_API_KEY. */
export function savedDevKey(dataDir: string): string | undefined {
  const file = join(dataDir, "dev-api-key");
  return existsSync(file) ? readFileSync(file, "utf8").trim() || undefined : undefined;
}
