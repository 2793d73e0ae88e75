// Node list parsing: public nodes.json and host:port:key entries, valid and invalid, each case named.
import { describe, expect, it } from 'vitest';
import { defaultNodes, formatNode, parseNodeString, parseNodeStrings, parseNodesJson } from '../../src/tox/nodes.js';
import { NodeListError } from '../../src/tox/errors.js';

const KEY = '9691641EFE9D6BE3FD8651A0C9B200616AF0DF3E1DC272D558DD712EB9C95E09';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NodeListError);
    return (err as NodeListError).code;
  }
  return undefined;
}

describe('parseNodeString', () => {
  it('parses IPv4, host names and bracketed or bare IPv6, and uppercases the key', () => {
    expect(parseNodeString(`127.0.0.1:33445:${KEY.toLowerCase()}`)).toEqual({ host: '127.0.0.1', port: 33445, publicKey: KEY });
    expect(parseNodeString(`tox.example.org:443:${KEY}`)).toEqual({ host: 'tox.example.org', port: 443, publicKey: KEY });
    expect(parseNodeString(`[::1]:33445:${KEY}`)).toEqual({ host: '::1', port: 33445, publicKey: KEY });
    expect(parseNodeString(`2a01:4f8::3:33445:${KEY}`)).toEqual({ host: '2a01:4f8::3', port: 33445, publicKey: KEY });
    expect(parseNodeStrings([` 10.0.0.1:1:${KEY} `])).toHaveLength(1);
  });

  it('round-trips through formatNode', () => {
    for (const s of [`127.0.0.1:33445:${KEY}`, `[::1]:9:${KEY}`]) expect(formatNode(parseNodeString(s))).toBe(s);
  });

  const bad: Array<[string, unknown]> = [
    ['empty', ''],
    ['no key', '127.0.0.1:33445'],
    ['short key', `127.0.0.1:33445:${KEY.slice(2)}`],
    ['non-hex key', `127.0.0.1:33445:${'Z'.repeat(64)}`],
    ['port 0', `127.0.0.1:0:${KEY}`],
    ['port too big', `127.0.0.1:65536:${KEY}`],
    ['port not a number', `127.0.0.1:http:${KEY}`],
    ['empty host', `:33445:${KEY}`],
    ['host with a space', `a b:33445:${KEY}`],
    ['not a string', 42],
  ];
  for (const [name, input] of bad) {
    it(`rejects ${name} with BAD_NODE`, () => {
      expect(codeOf(() => parseNodeString(input as string))).toBe('BAD_NODE');
    });
  }
});

describe('parseNodesJson', () => {
  const entry = { ipv4: '85.143.221.42', ipv6: '2a04::1', port: 33445, tcp_ports: [3389, 33445], public_key: KEY, status_udp: true, status_tcp: true };

  it('reads ipv4 entries with their TCP ports, IPv6 only when asked, and skips nodes down on both transports', () => {
    const down = { ...entry, ipv4: '1.2.3.4', status_udp: false, status_tcp: false };
    const noV6 = { ...entry, ipv4: 'tox.example.org', ipv6: '-' };
    const text = JSON.stringify({ last_scan: 0, last_refresh: 0, nodes: [entry, down, noV6] });
    expect(parseNodesJson(text)).toEqual([
      { host: '85.143.221.42', port: 33445, publicKey: KEY, tcpPorts: [3389, 33445] },
      { host: 'tox.example.org', port: 33445, publicKey: KEY, tcpPorts: [3389, 33445] },
    ]);
    expect(parseNodesJson(text, { ipv6: true }).map((n) => n.host)).toEqual(['85.143.221.42', '2a04::1', 'tox.example.org']);
    expect(parseNodesJson(text, { onlineOnly: false })).toHaveLength(3);
  });

  const badLists: Array<[string, unknown, string]> = [
    ['invalid JSON', '{nodes:', 'BAD_NODE_LIST'],
    ['no nodes array', '{"nodes": 3}', 'BAD_NODE_LIST'],
    ['null', null, 'BAD_NODE_LIST'],
    ['entry not an object', { nodes: [7] }, 'BAD_NODE'],
    ['entry with a bad key', { nodes: [{ ...entry, public_key: 'abc' }] }, 'BAD_NODE'],
    ['entry with a bad port', { nodes: [{ ...entry, port: -1 }] }, 'BAD_NODE'],
    ['entry with bad tcp_ports', { nodes: [{ ...entry, tcp_ports: 'x' }] }, 'BAD_NODE'],
    ['entry with a bad tcp port', { nodes: [{ ...entry, tcp_ports: [70000] }] }, 'BAD_NODE'],
    ['entry without any address', { nodes: [{ ...entry, ipv4: '-', ipv6: '-' }] }, 'BAD_NODE'],
    ['entry with a non-string ipv4', { nodes: [{ ...entry, ipv4: 5 }] }, 'BAD_NODE'],
  ];
  for (const [name, input, code] of badLists) {
    it(`rejects ${name} with ${code}`, () => {
      expect(codeOf(() => parseNodesJson(input))).toBe(code);
    });
  }

  it('names the bad entry index in the message', () => {
    expect(() => parseNodesJson({ nodes: [entry, { ...entry, port: 'x' }] })).toThrow(/nodes\[1\]/);
  });
});

describe('default node list', () => {
  it('ships a parseable public list with several nodes', () => {
    const nodes = defaultNodes();
    expect(nodes.length).toBeGreaterThanOrEqual(5);
    for (const n of nodes) expect(n.publicKey).toMatch(/^[0-9A-F]{64}$/);
  });
});
