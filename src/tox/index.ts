// Public API of the Tox layer: ToxNode, its typed errors and events, node lists, and the local tox-bootstrapd launcher.
export {
  ToxNode,
  type ToxNodeOptions,
  type ToxNodeEvents,
  type ProxyOptions,
  type RebootstrapOptions,
  type BootstrapReport,
  type FriendNumber,
  type ConnectionStatus,
  type UserStatus,
  type MessageType,
  type SelfConnectionEvent,
  type FriendRequestEvent,
  type FriendConnectionEvent,
  type FriendNameEvent,
  type FriendStatusMessageEvent,
  type FriendStatusEvent,
  type FriendMessageEvent,
  type FriendPacketEvent,
  type FriendTypingEvent,
  type FriendReadReceiptEvent,
  type RebootstrapEvent,
  type IterateEvent,
} from './node.js';
export { ToxError, NodeListError, BootstrapdError } from './errors.js';
export {
  type BootstrapNode,
  type ParseNodesJsonOptions,
  parseNodeString,
  parseNodeStrings,
  parseNodesJson,
  loadNodesFile,
  defaultNodes,
  defaultNodesPath,
  formatNode,
} from './nodes.js';
export { startBootstrapd, bootstrapdHealthCheck, type Bootstrapd, type BootstrapdOptions, type BootstrapdInfo } from './bootstrapd.js';
