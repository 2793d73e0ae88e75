// Packed nodes (family byte, address, big-endian port, 32-byte key): the node format of the DHT, TCP_RELAY and PATH_NODE sections.
import { isIP } from 'node:net';
import { ProfileError } from './errors.js';
import type { NodeFamily, PackedNode } from './format.js';

/** Family byte of IPv4 UDP nodes. */
export const FAMILY_UDP_IPV4 = 2;
/** Family byte of IPv6 UDP nodes. */
export const FAMILY_UDP_IPV6 = 10;
/** Family byte of IPv4 TCP relays. */
export const FAMILY_TCP_IPV4 = 130;
/** Family byte of IPv6 TCP relays. */
export const FAMILY_TCP_IPV6 = 138;

/** Number of address bytes for a family byte, or undefined when libtoxcore would not accept it. */
function ipLength(family: number): number | undefined {
  switch (family) {
    case FAMILY_UDP_IPV4:
    case FAMILY_TCP_IPV4:
      return 4;
    case FAMILY_UDP_IPV6:
    case FAMILY_TCP_IPV6:
      return 16;
    default:
      return undefined;
  }
}

/** Packed size of one node of `family` (39 for IPv4, 51 for IPv6). */
export function packedNodeSize(family: NodeFamily): number {
  return 1 + (ipLength(family) ?? 0) + 2 + 32;
}

/** Parses a whole run of packed nodes; `where` names the section in errors. Throws {@link ProfileError} BAD_SECTION on an unknown family or a partial node. */
export function unpackNodes(data: Uint8Array, where: string): PackedNode[] {
  const nodes: PackedNode[] = [];
  let at = 0;
  while (at < data.length) {
    const family = data[at]!;
    const len = ipLength(family);
    if (len === undefined) {
      throw new ProfileError('BAD_SECTION', `${where}: node ${nodes.length} has unknown address family ${family}`);
    }
    const size = 1 + len + 2 + 32;
    if (at + size > data.length) {
      throw new ProfileError('BAD_SECTION', `${where}: node ${nodes.length} is cut short (${data.length - at} of ${size} bytes)`);
    }
    const ip = data.slice(at + 1, at + 1 + len);
    const port = (data[at + 1 + len]! << 8) | data[at + 2 + len]!;
    const publicKey = data.slice(at + 3 + len, at + size);
    nodes.push({ family: family as NodeFamily, ip, port, publicKey });
    at += size;
  }
  return nodes;
}

/** Packs nodes back into their wire form; throws {@link ProfileError} BAD_ARGUMENT when a node's fields have the wrong shape. */
export function packNodes(nodes: readonly PackedNode[], where: string): Uint8Array {
  let total = 0;
  for (const [i, node] of nodes.entries()) {
    const len = ipLength(node.family);
    if (len === undefined || !(node.ip instanceof Uint8Array) || node.ip.length !== len) {
      throw new ProfileError('BAD_ARGUMENT', `${where}: node ${i} has family ${String(node.family)} and a ${node.ip?.length}-byte address`);
    }
    if (!(node.publicKey instanceof Uint8Array) || node.publicKey.length !== 32) {
      throw new ProfileError('BAD_ARGUMENT', `${where}: node ${i} needs a 32-byte public key`);
    }
    if (!Number.isInteger(node.port) || node.port < 0 || node.port > 0xffff) {
      throw new ProfileError('BAD_ARGUMENT', `${where}: node ${i} has port ${node.port}`);
    }
    total += 1 + len + 2 + 32;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const node of nodes) {
    out[at] = node.family;
    out.set(node.ip, at + 1);
    at += 1 + node.ip.length;
    out[at] = node.port >> 8;
    out[at + 1] = node.port & 0xff;
    out.set(node.publicKey, at + 2);
    at += 34;
  }
  return out;
}

/** Formats a node's address as text: dotted quad for IPv4, RFC 5952 compressed form for IPv6. */
export function formatNodeIp(ip: Uint8Array): string {
  if (ip.length === 4) return Array.from(ip).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip[i]! << 8) | ip[i + 1]!);
  // Find the longest run (>= 2) of zero groups to compress.
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** Whether a family byte says TCP (a relay) rather than UDP (a DHT node). */
export function isTcpFamily(family: NodeFamily): boolean {
  return family === FAMILY_TCP_IPV4 || family === FAMILY_TCP_IPV6;
}

/** Builds a packed node from a numeric IPv4/IPv6 address; throws {@link ProfileError} BAD_ARGUMENT for a host name or bad key/port. */
export function makePackedNode(host: string, port: number, publicKey: Uint8Array, transport: 'udp' | 'tcp'): PackedNode {
  const version = isIP(host);
  if (version === 0) throw new ProfileError('BAD_ARGUMENT', `packed node: "${host}" is not a numeric IPv4/IPv6 address`);
  const ip = version === 4 ? Uint8Array.from(host.split('.').map(Number)) : parseIpv6(host);
  const family = (version === 4 ? (transport === 'tcp' ? FAMILY_TCP_IPV4 : FAMILY_UDP_IPV4) : transport === 'tcp' ? FAMILY_TCP_IPV6 : FAMILY_UDP_IPV6) as NodeFamily;
  const node: PackedNode = { family, ip, port, publicKey };
  packNodes([node], 'packed node'); // validates port and key
  return node;
}

function parseIpv6(host: string): Uint8Array {
  // Expand an embedded dotted quad, then the "::" gap, into eight 16-bit groups.
  let text = host;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const q = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, v4.index)}${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(fill).fill('0'), ...tailGroups].map((g) => parseInt(g, 16));
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}
