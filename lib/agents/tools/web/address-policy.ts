import { BlockList, isIP } from 'node:net';

/**
 * Address ranges a URL the model asks for must never reach: this host, the private networks,
 * link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast, documentation and
 * reserved ranges, and the IPv6 forms that can carry any IPv4 address (NAT64, 6to4, Teredo).
 * IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) are matched by their IPv4 rules (Node's BlockList
 * does that itself).
 */
const BLOCKED: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 32, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const blockList = new BlockList();
for (const [network, prefix, family] of BLOCKED) blockList.addSubnet(network, prefix, family);

/**
 * Whether `address` (an IP literal) is on the public internet. Anything that is not a valid IP
 * counts as not public.
 *
 * @example
 * isPublicAddress('93.184.216.34'); // true
 * isPublicAddress('::ffff:10.0.0.1'); // false
 */
export function isPublicAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 0) return false;
  return !blockList.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}
