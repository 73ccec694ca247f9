import type { Bus } from "@t2v/common/channels";

const API_TIMEOUT_MS = 5_000;
/** JetStream's "no message found" (JSNoMessageFoundErr). */
const NO_MESSAGE_FOUND = 10037;

interface StreamInfo {
  state?: { subjects?: Record<string, number> };
  error?: { description: string };
}

interface StoredMessage {
  message?: { data?: string };
  error?: { err_code?: number; description: string };
}

/** What a JetStream object store holds now, by the names its metadata gives. */
export interface ObjectListing {
  /** The objects held (deleted ones left out). */
  names: string[];
  /**
   * Objects whose metadata subject the stream lists but whose last message its leader cannot
   * find, named from the subject. Seen on nats-server 2.9.10 after a whole-cluster outage and a
   * node's death: no reader gets such an object (the services' info and get find none either).
   */
  unreadable: string[];
}

/**
 * Lists a JetStream object store through the JetStream API: the services' BlobStore has no
 * listing, and an orphan check must see what is there, not only what it knows to ask for. Each
 * object has one metadata subject (`$O.<bucket>.M.<base64 name>`) whose last message says its
 * name and whether it was deleted.
 */
export async function listObjects(bus: Bus, bucket: string): Promise<ObjectListing> {
  const stream = `OBJ_${bucket}`;
  const prefix = `$O.${bucket}.M.`;
  const info = await api<StreamInfo>(bus, `$JS.API.STREAM.INFO.${stream}`, { subjects_filter: `${prefix}>` });
  if (info.error) throw new Error(`${stream}: ${info.error.description}`);
  const names: string[] = [];
  const unreadable: string[] = [];
  for (const subject of Object.keys(info.state?.subjects ?? {})) {
    const got = await api<StoredMessage>(bus, `$JS.API.STREAM.MSG.GET.${stream}`, { last_by_subj: subject });
    if (got.error?.err_code === NO_MESSAGE_FOUND) {
      unreadable.push(Buffer.from(subject.slice(prefix.length), "base64").toString("utf8"));
      continue;
    }
    if (got.error) throw new Error(`${stream} ${subject}: ${got.error.description}`);
    const meta = JSON.parse(Buffer.from(got.message?.data ?? "", "base64").toString("utf8")) as {
      name: string;
      deleted?: boolean;
    };
    if (!meta.deleted) names.push(meta.name);
  }
  return { names: names.sort(), unreadable: unreadable.sort() };
}

async function api<T>(bus: Bus, subject: string, body: unknown): Promise<T> {
  const answer = await bus.request(subject, new TextEncoder().encode(JSON.stringify(body)), API_TIMEOUT_MS);
  return JSON.parse(new TextDecoder().decode(answer)) as T;
}
