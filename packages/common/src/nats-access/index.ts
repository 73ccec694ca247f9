// The `@t2v/common/nats-access` entry: the NATS users of the mesh and what each may do.

export { loadOrCreatePasswords, randomPasswords, writeLocalNatsConfig } from "./local-nats-files.js";
export {
  AUTHORIZATION_FILE,
  type LocalCluster,
  type LocalNatsServer,
  renderAuthorization,
  renderLocalServerConfig,
  userPermissions,
} from "./nats-config.js";
export { ADMIN_PERMISSIONS, natsPermissions, type SubjectPermissions } from "./nats-permissions.js";
export {
  ADMIN_USER,
  NATS_USERS,
  type NatsPasswords,
  type NatsUser,
  passwordEnv,
  passwordVar,
  ROUTE_USER,
} from "./nats-users.js";
export {
  type ConsumerUse,
  GATEWAY_OWN_BUCKETS,
  SERVICE_ACCESS,
  SERVICE_NAMES,
  type ServiceAccess,
  type ServiceName,
} from "./service-access.js";
