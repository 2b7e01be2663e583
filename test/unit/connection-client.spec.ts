import { clientOf } from '../../src/http/connection-limits';

describe('the client a connection counts against (its per-address share)', () => {
  it('IPv4 by its address, also when a dual-stack listener reports it IPv4-mapped', () => {
    expect(clientOf('127.0.0.2')).toBe('127.0.0.2');
    expect(clientOf('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(clientOf('127.0.0.1')).not.toBe(clientOf('127.0.0.2'));
  });

  it('IPv6 by its /64, however the address is spelled: one host cannot take a share per address', () => {
    const host = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:9', '2001:db8:1:2::5%eth0', '2001:db8:1:2::1.2.3.4'];
    expect(new Set(host.map(clientOf))).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(clientOf('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientOf('::1')).toBe('0:0:0:0::/64');
    expect(clientOf('fe80::1')).toBe('fe80:0:0:0::/64');
    expect(clientOf('2001:db8::')).toBe('2001:db8:0:0::/64');
  });
});
