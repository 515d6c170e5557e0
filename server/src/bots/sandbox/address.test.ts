import { isBlockedAddress } from './address';

describe('addresses a bot may not fetch from', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['0.0.0.0', 'this network'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.100.100.200', 'CGNAT (Alibaba metadata)'],
    ['168.63.129.16', 'Azure wire server'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'IPv6 loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fd00:ec2::254', 'unique-local (AWS IPv6 metadata)'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['64:ff9b::10.0.0.1', 'NAT64 of a private address'],
    ['64:ff9b::a00:1', 'NAT64 of a private address, hex form'],
    ['localhost', 'not an address at all'],
  ])('%s is refused (%s)', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  test.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '64:ff9b::808:808'])(
    '%s is a public address',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    }
  );
});
