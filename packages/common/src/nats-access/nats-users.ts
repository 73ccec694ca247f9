import { SERVICE_NAMES, type ServiceName } from "./service-access.js";

/** The operators' user: the CLI (`t2v up`, `t2v keys`, reports), tests' own connections, `nats` tooling. */
export const ADMIN_USER = "admin";

/**
 * Not a client: what the servers of a JetStream cluster present to each other on their routes.
 * A server without its password cannot join the cluster (and read every stream through it).
 */
export const ROUTE_USER = "route";

export type NatsUser = ServiceName | typeof ADMIN_USER | typeof ROUTE_USER;
export const NATS_USERS: readonly NatsUser[] = [...SERVICE_NAMES, ADMIN_USER, ROUTE_USER];

/**
 * The environment variable nats-server reads a user's password from (`$GATEWAY_NATS_PASSWORD` in the
 * configuration): the same name is the key of the Kubernetes Secret `nats-credentials`.
 */
export function passwordVar(user: NatsUser): string {
  return `${user.toUpperCase()}_NATS_PASSWORD`;
}

/** Password by user. */
export type NatsPasswords = Readonly<Record<NatsUser, string>>;

/** The environment nats-server needs to resolve every password reference of the configuration. */
export function passwordEnv(passwords: NatsPasswords): Record<string, string> {
  return Object.fromEntries(NATS_USERS.map((u) => [passwordVar(u), passwords[u]]));
}
