import type { Bus } from "@t2v/common/channels";

const API_TIMEOUT_MS = 5_000;

interface StreamInfo {
  state?: { subjects?: Record<string, number> };
  error?: { description: string };
}

interface StoredMessage {
  message?: { data?: string };
  error?: { description: string };
}

/**
 * The names of the objects a JetStream object store holds now (deleted ones left out), read
 * through the JetStream API: the services' BlobStore has no listing, and an orphan check must
 * see what is there, not only what it knows to ask for. Each object has one metadata subject
 * (`$O.<bucket>.M.<name>`) whose last message says its name and whether it was deleted.
 */
export async function objectNames(bus: Bus, bucket: string): Promise<string[]> {
  const stream = `OBJ_${bucket}`;
  const info = await api<StreamInfo>(bus, `$JS.API.STREAM.INFO.${stream}`, {
    subjects_filter: `$O.${bucket}.M.>`,
  });
  if (info.error) throw new Error(`${stream}: ${info.error.description}`);
  const names: string[] = [];
  for (const subject of Object.keys(info.state?.subjects ?? {})) {
    const got = await api<StoredMessage>(bus, `$JS.API.STREAM.MSG.GET.${stream}`, { last_by_subj: subject });
    if (got.error) throw new Error(`${stream} ${subject}: ${got.error.description}`);
    const meta = JSON.parse(Buffer.from(got.message?.data ?? "", "base64").toString("utf8")) as {
      name: string;
      deleted?: boolean;
    };
    if (!meta.deleted) names.push(meta.name);
  }
  return names.sort();
}

async function api<T>(bus: Bus, subject: string, body: unknown): Promise<T> {
  const answer = await bus.request(subject, new TextEncoder().encode(JSON.stringify(body)), API_TIMEOUT_MS);
  return JSON.parse(new TextDecoder().decode(answer)) as T;
}
