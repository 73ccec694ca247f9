import { parseArgs } from "node:util";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { apiKeyPrefix, withApiKeyStore } from "@t2v/common/api-keys";
import { type NatsSettings, natsFields, readConfigOrExit } from "@t2v/common/config";
import { isTier, type Tier } from "@t2v/common/task";
import { cliConfig } from "../config.js";
import { operatorNats } from "../mesh/local-nats-users.js";
import { defaultDataDir } from "../mesh/paths.js";

export interface KeysOutput {
  write(s: string): void;
}

/** Creates a key; the key itself is the last line, so scripts can take it with `tail -1`. */
export async function keysCreate(
  nats: NatsSettings,
  o: { tenant: string; tier: string; name?: string },
  out: KeysOutput,
): Promise<string> {
  if (!isTier(o.tier)) throw new Error(`--tier must be vip, standard or batch, not "${o.tier}"`);
  const tier: Tier = o.tier;
  const created = await withApiKeyStore(nats, (keys) =>
    keys.create({ tenantId: o.tenant, tier, ...(o.name ? { name: o.name } : {}) }),
  );
  out.write(`created key ${created.record.prefix} for tenant ${o.tenant} (tier ${tier})\n`);
  out.write(`webhook signing secret of tenant ${o.tenant}: ${created.tenant.webhookSecret}\n`);
  out.write("the key is shown only now; store it safely:\n");
  out.write(`${created.key}\n`);
  return created.key;
}

export async function keysList(nats: NatsSettings, out: KeysOutput): Promise<void> {
  const list = await withApiKeyStore(nats, (keys) => keys.list());
  out.write(`${"PREFIX".padEnd(14)}${"TENANT".padEnd(24)}${"TIER".padEnd(10)}${"CREATED".padEnd(22)}STATE\n`);
  for (const k of list) {
    const created = k.createTime ? timestampDate(k.createTime).toISOString().slice(0, 19) : "";
    out.write(
      `${k.prefix.padEnd(14)}${k.tenantId.padEnd(24)}${k.tier.padEnd(10)}${created.padEnd(22)}${k.revoked ? "revoked" : "active"}${k.name ? `  ${k.name}` : ""}\n`,
    );
  }
}

/** Accepts the prefix or the whole key. */
export async function keysRevoke(nats: NatsSettings, prefixOrKey: string, out: KeysOutput): Promise<void> {
  const prefix = apiKeyPrefix(prefixOrKey) ?? prefixOrKey;
  const ok = await withApiKeyStore(nats, (keys) => keys.revoke(prefix));
  if (!ok) throw new Error(`no key with prefix "${prefix}"`);
  out.write(`revoked key ${prefix}\n`);
}

/**
 * `t2v keys create|list|revoke`, against the NATS at NATS_URL (with NATS_CREDS etc. when set; as the
 * admin user of a local `t2v up` otherwise).
 */
export async function keysCommand(args: string[], fail: (message: string) => never): Promise<void> {
  const [sub, ...rest] = args;
  const { dataDir, ...settings } = readConfigOrExit("t2v", {
    natsUrl: cliConfig.natsUrl,
    ...natsFields,
    dataDir: cliConfig.dataDir,
  });
  const nats = operatorNats(settings, dataDir || defaultDataDir());
  const out = { write: (s: string) => void process.stdout.write(s) };
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { tenant: { type: "string" }, tier: { type: "string", default: "standard" }, name: { type: "string" } },
  });
  if (sub === "create") {
    if (!values.tenant) fail("keys create needs --tenant NAME");
    await keysCreate(
      nats,
      { tenant: values.tenant, tier: values.tier, ...(values.name ? { name: values.name } : {}) },
      out,
    );
  } else if (sub === "list") await keysList(nats, out);
  else if (sub === "revoke" && positionals[0]) await keysRevoke(nats, positionals[0], out);
  else fail("keys needs create, list or revoke PREFIX");
}
