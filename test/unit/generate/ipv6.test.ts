// generate --vip6: an IPv6 VIP in a VRRPv3 instance synced with the IPv4 one, and its static rules.
import { describe, expect, it } from 'vitest';
import { generatePair } from '../../../src/generate/render.js';
import { validateGenerateInput } from '../../../src/generate/validate.js';
import { parseKeepalivedConfig } from '../../../src/keepalived/parse.js';
import { vrrpPaths } from '../../../src/netfilter/vrrp-paths.js';

const base = { role: 'master', interface: 'eth0', vip: '192.168.100.1/24', self: '192.168.100.2', peer: '192.168.100.3', out: '/tmp/x' };

function render(extra: Record<string, unknown>) {
  const v = validateGenerateInput({ ...base, ...extra });
  if (!v.ok) throw new Error(v.error);
  return generatePair(v.value);
}

describe('generate --vip6', () => {
  it('multicast IPv6 (from the link-local address): VI_LAN6, VRRPv3, in the sync group with VI_LAN, rules.v6', () => {
    const files = render({ vip6: '2001:db8:100::1/64' });
    const conf = files['keepalived.conf']!.content;
    const cfg = parseKeepalivedConfig('/k.conf', { readFile: () => conf, listDir: () => undefined });
    expect(cfg.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const v6 = cfg.config.vrrpInstances.find((v) => v.name === 'VI_LAN6')!;
    expect(v6).toMatchObject({ version: 3, virtualRouterId: 52, interface: 'eth0', unicastPeers: [] });
    expect(v6.authentication).toBeUndefined();
    expect(cfg.config.vrrpSyncGroups[0]!.members).toEqual(['VI_LAN', 'VI_LAN6']);
    const [, p6] = vrrpPaths(cfg.config, [{ ifname: 'eth0', address: 'fe80::2', prefix: 64, family: 'inet6' }]);
    expect(p6).toMatchObject({ family: 'ip6', self: 'fe80::2', peers: ['ff02::12'] });
    expect(files['rules.v6']!.content).toContain('-I INPUT -s fe80::/10 -d ff02::12/128 -p vrrp -j ACCEPT');
    expect(files['sysctl.conf']!.content).toContain('net.ipv6.conf.all.forwarding = 1');
    expect(files['INSTALL.md']!.content).toContain('ip6tables-restore --noflush < rules.v6');
  });

  it('unicast IPv6 with --self6/--peer6; the WAN instance keeps VRID+1 and IPv6 takes VRID+2', () => {
    const files = render({ vip6: '2001:db8:100::1/64', self6: '2001:db8:100::2', peer6: '2001:db8:100::3', wanInterface: 'eth1', wanVip: '198.51.100.10/24' });
    const conf = files['keepalived.conf']!.content;
    expect(conf).toMatch(/vrrp_instance VI_LAN6 \{[\s\S]*virtual_router_id 53[\s\S]*unicast_src_ip 2001:db8:100::2[\s\S]*2001:db8:100::3/);
    expect(files['rules.v6']!.content).toContain('-I INPUT -s 2001:db8:100::3/128 -p vrrp -j ACCEPT');
  });

  it('refuses a link-local VIP, half of a unicast pair, and an IPv4 address as --vip6', () => {
    const err = (extra: Record<string, unknown>) => {
      const v = validateGenerateInput({ ...base, ...extra });
      return v.ok ? '' : v.error;
    };
    expect(err({ vip6: 'fe80::1/64' })).toMatch(/--vip6: must be a global/);
    expect(err({ vip6: '2001:db8::1/64', self6: '2001:db8::2' })).toMatch(/--peer6: goes with/);
    expect(err({ vip6: '192.168.1.1/24' })).toMatch(/--vip6: '192\.168\.1\.1\/24' is not an IPv6 address/);
    expect(err({ self6: '2001:db8::2', peer6: '2001:db8::3' })).toMatch(/--self6: needs --vip6/);
  });

  it('without --vip6 nothing changes (no rules.v6, no IPv6 sysctl)', () => {
    const files = render({});
    expect(files['rules.v6']).toBeUndefined();
    expect(files['sysctl.conf']!.content).not.toContain('ipv6');
  });
});
