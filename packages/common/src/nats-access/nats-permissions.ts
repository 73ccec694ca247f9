import { inboxPrefixOf } from "../channels/bus/inbox-prefix.js";
import { ADMIN_USER } from "./nats-users.js";
import type { ConsumerUse, ServiceAccess, ServiceName } from "./service-access.js";

/** The subjects a NATS user may publish and subscribe to (nats-server `permissions` allow lists). */
export interface SubjectPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

const API = "$JS.API";
/**
 * Whom the scheduler answers (queue estimates): the gateway, and operators' tools as `admin` or
 * with the client's default inbox (`_INBOX`, the `nats` CLI, a test's own connection).
 */
const ANSWERED = [`${inboxPrefixOf("gateway")}.>`, `${inboxPrefixOf(ADMIN_USER)}.>`, "_INBOX.>"];

/** Stream `s` exists or is created with the settings its channel gives (first use creates it). */
const openStream = (s: string): string[] => [`${API}.STREAM.INFO.${s}`, `${API}.STREAM.CREATE.${s}`];

/** Reads one durable pull consumer and settles its messages (ack, nak, term, working). */
function readConsumer({ stream, durable }: ConsumerUse): string[] {
  const s = stream.name;
  return [
    ...openStream(s),
    `${API}.CONSUMER.INFO.${s}.${durable}`,
    // nats.js names the filter in the subject since nats-server 2.9 (CREATE.<stream>.<durable>.<filter>).
    `${API}.CONSUMER.CREATE.${s}.${durable}`,
    `${API}.CONSUMER.CREATE.${s}.${durable}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${s}.${durable}`,
    `${API}.CONSUMER.MSG.NEXT.${s}.${durable}`,
    `$JS.ACK.${s}.${durable}.>`,
    // A terminated work-queue message is deleted as well (nats-bus.ts: nats-server 2.9 keeps it otherwise).
    ...(stream.retention === "workqueue" ? [`${API}.STREAM.MSG.DELETE.${s}`] : []),
  ];
}

/**
 * Reading a KV bucket (stream KV_<name>) or object store (OBJ_<name>): open it (create it with its
 * channel's settings on first use, or retune it), get entries, watch and list them (ephemeral
 * ordered consumers).
 */
function readStore(stream: string): string[] {
  return [
    ...openStream(stream),
    `${API}.STREAM.UPDATE.${stream}`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.CONSUMER.CREATE.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.>`,
    `${API}.CONSUMER.DELETE.${stream}.>`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * Reading and writing one (`dataSubjects`: its entries' subjects): also put, delete and purge
 * entries. Deleting the stream itself is left to the admin user.
 */
function useStore(stream: string, dataSubjects: string): string[] {
  return [dataSubjects, ...readStore(stream), `${API}.STREAM.MSG.DELETE.${stream}`, `${API}.STREAM.PURGE.${stream}`];
}

/**
 * The permissions a service's user gets, from what the service does (`SERVICE_ACCESS`): everything a
 * channel it uses needs, nothing for a channel it does not. Pure, so a test can check what each service
 * may and may not do without a server; the nats-server configuration is rendered from it.
 */
export function natsPermissions(user: ServiceName, access: ServiceAccess): SubjectPermissions {
  const publish = [
    // Account info: the JetStream client asks for it once when it starts.
    `${API}.INFO`,
    ...access.publishes.flatMap((s) => [...s.subjects, ...openStream(s.name)]),
    ...access.consumes.flatMap(readConsumer),
    ...access.watchesBacklog.map((c) => `${API}.CONSUMER.INFO.${c.stream.name}.${c.durable}`),
    ...access.buckets.flatMap((b) => useStore(`KV_${b}`, `$KV.${b}.>`)),
    ...access.readsBuckets.flatMap((b) => readStore(`KV_${b}`)),
    ...access.stores.flatMap((o) => useStore(`OBJ_${o}`, `$O.${o}.>`)),
    ...access.sends,
    ...(access.replies ? ANSWERED : []),
  ];
  // Replies to its own requests only (connectNats gives each user its own inbox prefix).
  return { publish: unique(publish), subscribe: unique([`${inboxPrefixOf(user)}.>`, ...access.receives]) };
}

/** The operators' user (CLI, tests, `nats` tooling): everything, including deleting streams. */
export const ADMIN_PERMISSIONS: SubjectPermissions = { publish: [">"], subscribe: [">"] };

function unique(subjects: string[]): string[] {
  return [...new Set(subjects)];
}
