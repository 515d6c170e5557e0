import { BlockList, isIP } from 'node:net';

/**
 * Addresses a bot's fetch may never reach, whatever name led there: loopback, private, link-local
 * (which holds the cloud metadata services at 169.254.169.254), unique-local, CGNAT (Alibaba's
 * metadata at 100.100.100.200), Azure's wire server, and the ranges that are not unicast on the
 * Internet. IPv4 rules also match IPv4-mapped IPv6 (`::ffff:10.0.0.1`), which node's BlockList does
 * for us.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['168.63.129.16', 32],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  // 6to4 embeds an IPv4 address the check would have to unwrap; nothing a bot needs lives there.
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits: judge that address. */
function nat64Embedded(address: string): string | undefined {
  const m = /^64:ff9b::(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/i.exec(address);
  if (!m) {
    return undefined;
  }
  if (m[3]) {
    return m[3];
  }
  const hi = parseInt(m[1] ?? '0', 16);
  const lo = parseInt(m[2] ?? '0', 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** True when a bot must not connect to this IP address (or when it is not an IP address at all). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    return blocked.check(address, 'ipv4');
  }
  if (family === 6) {
    const embedded = nat64Embedded(address);
    if (embedded) {
      return isBlockedAddress(embedded);
    }
    if (/^64:ff9b:/i.test(address)) {
      return true;
    }
    return blocked.check(address, 'ipv6');
  }
  return true;
}
