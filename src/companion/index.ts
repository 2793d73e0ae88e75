// Public API of the companion layer: the service, its configuration, data directory, daemon, admin endpoint and metrics.
export { Companion, CompanionError, loadCompanionState, type CompanionState, type CompanionComponents, type CompanionEvents, type PendingRequest, type AlarmRecord } from './companion.js';
export { loadConfig, resolveDataDir, parseBootstrapEntry, readBootstrapKeyFile, configFromEnv, ConfigError, ENV, type CompanionConfig, type RawConfig, type BootstrapEntry, type Policy, type AcceptRequests, type NetworkMode } from './config.js';
export { FILES, DataDirError, dataPath, isInitialized, lockDataDir, readRuntime, readOrCreateToken, type RuntimeInfo } from './datadir.js';
export { initDataDir, openOffline, runOffline, startDaemon, type Daemon, type DaemonOptions, type InitOptions, type InitResult } from './open.js';
export { startAdminServer, startProbeServer, callAdmin, getAdmin, checkBearer, AdminCallError, ADMIN_ROUTES, PROBE_ROUTES, type AdminServer, type AdminHandlers, type AdminRoute, type AdminServerOptions, type ProbeServerOptions } from './admin.js';
export { CompanionMetrics } from './metrics.js';
export { createLogger, REDACT_PATHS } from './log.js';
export { OPERATIONS, READ_ONLY_OPERATIONS, runOperation, type Operation } from './ops.js';
export { ToxNodePort, openNode } from './node-adapter.js';
export type { NodePort, NodePortEvents, NodePortOptions, FriendInfo, SelfConnection } from './node-port.js';
