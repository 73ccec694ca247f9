import { ADMIN_USER, type NatsPasswords, type NatsUser } from "../nats-access/index.js";

/** Who a test's server lets in: every project user, with passwords made for this server. */
export interface TestNatsUsers {
  readonly passwords: NatsPasswords;
  /** Connect options of the admin user, for the test's own connections (`connect({ servers, ...admin })`). */
  readonly admin: { readonly user: string; readonly pass: string };
  /** NATS_USER and NATS_PASSWORD of `user`, for a service's environment. */
  env(user: NatsUser): Record<"NATS_USER" | "NATS_PASSWORD", string>;
}

export function testNatsUsers(passwords: NatsPasswords): TestNatsUsers {
  return {
    passwords,
    admin: { user: ADMIN_USER, pass: passwords[ADMIN_USER] },
    env: (user) => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] }),
  };
}
