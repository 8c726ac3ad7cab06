// Issue 14 (part A): the firewall evaluation follows the adverts' real protocol and family, on a real
// keepalived pair: AH adverts (protocol 51) dropped by a firewall that accepts only VRRP (112), and
// IPv6 VRRP adverts dropped by ip6tables, so that both nodes hold the VIP. Each detected on the node
// that drops them, fixed with `fix vrrp-input-blocked --yes`, and the pair behaving again.
import { describe, expect, it } from 'vitest';
import { ADDR, createLab, destroyLabsAfterEach, pairLab, requireRoot, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';
import { keepalivedConf, V6_INSTANCE as V6, withIpv6 } from './keepalived-files.js';

requireRoot();
let lab: Lab | undefined;
destroyLabsAfterEach();

async function check(node: 'gw1' | 'gw2'): Promise<Report> {
  const { report } = await lab!.report<Report>(node);
  expect(report.checks.filter((c) => c.status === 'error')).toEqual([]);
  return report;
}
const of = (r: Report, code: string) => r.findings.filter((f) => f.code === code);

describe('auth_type AH adverts (IP protocol 51) and a firewall that accepts only protocol 112 (catalogue 10, NixOS/nixpkgs#269944)', () => {
  it('is found on the dropping node naming AH/51, and an accept for -p ah is inserted above the drop', async () => {
    lab = await pairLab({ keepalivedConf: (gw) => keepalivedConf(gw).replace(/auth_type PASS/g, 'auth_type AH') });
    // the adverts really are protocol 51 on the wire
    const ah = await lab.capture('gw2', 'eth0', ['ip', 'proto', '51'], async () => undefined, { count: 1, timeoutMs: 10_000 });
    expect(ah.join('\n')).toMatch(/AH\(spi=/);
    expect(of(await check('gw2'), 'vrrp-input-blocked')).toEqual([]);
    // an allow-list INPUT that passes "vrrp" only
    for (const rule of [
      ['-i', 'lo', '-j', 'ACCEPT'],
      ['-p', 'vrrp', '-j', 'ACCEPT'],
      ['-j', 'DROP'],
    ])
      await lab.execOk('gw2', ['iptables', '-w', '-A', 'INPUT', ...rule]);
    await lab.waitForMaster('gw2');
    expect(await lab.holdsVip('gw1', ADDR.lanVip)).toBe(true);

    const r = await check('gw2');
    const f = of(r, 'vrrp-input-blocked');
    expect(f.map((x) => x.subject).sort(), JSON.stringify(r.findings, null, 2)).toEqual(['VI_LAN', 'VI_WAN']);
    expect(f[0]!.title).toMatch(/AH \(protocol 51\) adverts from/);
    expect(f[0]!.detail).toMatch(/AH \(IP protocol 51/);
    expect(f[0]!.evidence[0]).toEqual({ probe: 'iptables-save', excerpt: '-A INPUT -j DROP' });
    expect(of(await check('gw1'), 'vrrp-input-blocked')).toEqual([]);

    const fixed = await lab.doctor('gw2', ['fix', 'vrrp-input-blocked', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect(await lab.hasRule('gw2', 'filter', 'INPUT', ['-s', `${ADDR.gw1.lan}/32`, '-p', 'ah', '-j', 'ACCEPT'])).toBe(true);
    await lab.waitForNoVip('gw2');
    await lab.waitForMaster('gw1');
    expect(of(await check('gw2'), 'vrrp-input-blocked')).toEqual([]);
    expect(await lab.ping('client', ADDR.upstream, { count: 2, timeoutS: 5 })).toBe(true);
  });
});

async function holds6(node: 'gw1' | 'gw2', vip: string): Promise<boolean> {
  const r = await lab!.runOk(['ip', '-n', lab!.nodes[node], '-j', '-6', 'addr', 'show']);
  return (JSON.parse(r.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>).some((l) => (l.addr_info ?? []).some((a) => a.local === vip));
}

describe('IPv6 VRRP adverts dropped by ip6tables: both nodes hold the IPv6 VIP (catalogue 33)', () => {
  it('is found from ip6tables on the dropping node and fixed with an ip6tables accept', async () => {
    lab = await createLab({ start: false, keepalivedConf: withIpv6 });
    await lab.startKeepalived('gw1');
    await lab.waitForMaster('gw1');
    await lab.waitFor(() => holds6('gw1', V6.vip), { what: 'gw1 to hold the IPv6 VIP' });
    await lab.startKeepalived('gw2');
    await lab.waitForSteadyState();
    // VRRPv3 over IPv6 on the wire, from the link-local address
    const adv = await lab.capture('gw2', 'eth0', ['ip6', 'and', 'dst', 'ff02::12'], async () => undefined, { count: 1, timeoutMs: 10_000 });
    expect(adv.join('\n')).toMatch(/fe80::\S+ > ff02::12: VRRPv3/);
    await lab.waitFor(async () => !(await holds6('gw2', V6.vip)), { what: 'gw2 to leave the IPv6 VIP to gw1' });
    expect(of(await check('gw2'), 'vrrp-input-blocked')).toEqual([]);

    await lab.execOk('gw2', ['ip6tables', '-w', '-A', 'INPUT', '-p', 'vrrp', '-j', 'DROP']);
    await lab.waitFor(() => holds6('gw2', V6.vip), { what: 'gw2 to take the IPv6 VIP too (split brain)' });
    expect(await holds6('gw1', V6.vip)).toBe(true);
    // the IPv4 instances are untouched
    expect(await lab.holdsVip('gw2', ADDR.lanVip)).toBe(false);

    const r = await check('gw2');
    const f = of(r, 'vrrp-input-blocked');
    expect(
      f.map((x) => x.subject),
      JSON.stringify(r.findings, null, 2),
    ).toEqual(['VI_V6']);
    expect(f[0]!.evidence[0]).toEqual({ probe: 'ip6tables-save', excerpt: '-A INPUT -p vrrp -j DROP' });
    expect(f[0]!.title).toMatch(/to ff02::12/);

    const fixed = await lab.doctor('gw2', ['fix', 'vrrp-input-blocked', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect((await lab.exec('gw2', ['ip6tables', '-w', '-C', 'INPUT', '-d', 'ff02::12/128', '-p', 'vrrp', '-j', 'ACCEPT'])).ok).toBe(true);
    await lab.waitFor(async () => !(await holds6('gw2', V6.vip)), { what: 'gw2 to give the IPv6 VIP back' });
    expect(await holds6('gw1', V6.vip)).toBe(true);
    expect(of(await check('gw2'), 'vrrp-input-blocked')).toEqual([]);
  });
});

describe('generate writes an IPv6 pair (catalogue 33)', () => {
  it('installed as INSTALL.md says, the IPv4 and IPv6 VIPs sit on the master together and move together', async () => {
    const { generateCommand } = await import('../../src/generate/cli.js');
    const { readFileSync, readdirSync } = await import('node:fs');
    const path = await import('node:path');
    lab = await createLab({ start: false });
    for (const gw of ['gw1', 'gw2'] as const) {
      const out = path.join(lab.runDir, 'generated', gw);
      const rc = await generateCommand({
        role: gw === 'gw1' ? 'master' : 'backup',
        interface: 'eth0',
        vip: `${ADDR.lanVip}/${ADDR.prefixLen}`,
        self: ADDR[gw].lan,
        peer: ADDR[gw === 'gw1' ? 'gw2' : 'gw1'].lan,
        vip6: `${V6.vip}/64`,
        out,
      });
      expect(rc).toBe(0);
      const file = (rel: string) => readFileSync(path.join(out, rel), 'utf8');
      expect(file('keepalived.conf')).toMatch(/vrrp_instance VI_LAN6 \{[\s\S]*version 3/);
      await lab.writeEtc(gw, 'sysctl.d/90-hagw-doctor.conf', file('sysctl.conf'));
      await lab.execOk(gw, ['sysctl', '-p', '/etc/sysctl.d/90-hagw-doctor.conf']);
      await lab.execOk(gw, ['iptables-restore', '--noflush'], { input: file('rules.v4') });
      await lab.execOk(gw, ['ip6tables-restore', '--noflush'], { input: file('rules.v6') });
      for (const s of readdirSync(path.join(out, 'scripts'))) await lab.writeEtc(gw, `keepalived/scripts/${s}`, file(`scripts/${s}`), 0o755);
      await lab.writeEtc(gw, 'keepalived/keepalived.conf', file('keepalived.conf'));
      const t = await lab.exec(gw, ['keepalived', '-t', '-f', '/etc/keepalived/keepalived.conf']);
      expect(t.exitCode, `${t.stderr}${t.stdout}`).toBe(0);
    }
    await lab.startKeepalived('gw1');
    await lab.waitFor(async () => (await lab!.holdsVip('gw1', ADDR.lanVip)) && (await holds6('gw1', V6.vip)), { what: 'gw1 to hold the IPv4 and IPv6 VIPs' });
    await lab.startKeepalived('gw2');
    // the backup hears the master's VRRPv3 adverts through the generated ip6tables rules: it holds nothing
    await lab.capture('gw2', 'eth0', ['ip6', 'and', 'dst', 'ff02::12'], async () => undefined, { count: 2, timeoutMs: 10_000 });
    expect(await holds6('gw2', V6.vip)).toBe(false);
    expect(await lab.holdsVip('gw2', ADDR.lanVip)).toBe(false);
    const r = await check('gw2');
    expect(r.findings.filter((f) => ['vrrp-input-blocked', 'vrrp-version-mismatch', 'vrrp-instance-fault', 'vrrp-split-brain'].includes(f.code))).toEqual([]);
    // failover moves both families together (one sync group)
    const pid = lab.keepalivedPid('gw1')!;
    process.kill(pid, 'SIGTERM');
    await lab.waitFor(async () => (await lab!.holdsVip('gw2', ADDR.lanVip)) && (await holds6('gw2', V6.vip)), { what: 'gw2 to take both VIPs' });
  });
});

const NFT_CONF = `#!/usr/sbin/nft -f
# the node's own /etc/nftables.conf (nftables.service loads it at boot and on reload)
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		ip protocol vrrp drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
	}
}
`;

describe('a native nftables ruleset (/etc/nftables.conf) drops VRRP on the backup', () => {
  it('the fix goes into /etc/nftables.conf too, so reloading the ruleset keeps the adverts flowing', async () => {
    lab = await pairLab();
    await lab.writeEtc('gw2', 'nftables.conf', NFT_CONF, 0o755);
    await lab.execOk('gw2', ['nft', '-f', '/etc/nftables.conf']);
    await lab.waitForMaster('gw2');
    const r = await check('gw2');
    const f = of(r, 'vrrp-input-blocked');
    expect(f.map((x) => x.subject).sort(), JSON.stringify(r.findings, null, 2)).toEqual(['VI_LAN', 'VI_WAN']);
    expect(f[0]!.evidence[0]!.excerpt).toBe('ip protocol vrrp drop');

    const fixed = await lab.doctor('gw2', ['fix', 'vrrp-input-blocked', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect(fixed.stdout).toMatch(/added to \/etc\/nftables\.conf at the top of table inet filter chain input/);
    const conf = await lab.readEtc('gw2', 'nftables.conf');
    // both peers' accepts, above the drop, in the chain's block
    expect(conf).toMatch(
      /policy accept;\n\t\tip protocol vrrp ip saddr 198\.51\.100\.2 accept.*\n\t\tip protocol vrrp ip saddr 192\.168\.100\.2 accept.*\n\t\tip protocol vrrp drop/,
    );
    await lab.waitForNoVip('gw2');
    // what `systemctl reload nftables` does: the ruleset rebuilt from the file; the adverts still pass
    await lab.execOk('gw2', ['nft', '-f', '/etc/nftables.conf']);
    expect((await lab.exec('gw2', ['nft', 'list', 'chain', 'inet', 'filter', 'input'])).stdout).toMatch(/ip saddr 192\.168\.100\.2 accept/);
    await lab.capture('gw2', 'eth0', ['ip', 'proto', '112', 'and', 'src', 'host', ADDR.gw1.lan], async () => undefined, { count: 4, timeoutMs: 10_000 });
    expect(await lab.holdsVip('gw2', ADDR.lanVip)).toBe(false);
    expect(of(await check('gw2'), 'vrrp-input-blocked')).toEqual([]);
  });
});

describe('ufw on the backup drops the (untracked) adverts', () => {
  it('the fix goes into /etc/ufw/before.rules and `ufw reload` applies it; a second reload keeps it', async () => {
    const { cpSync, existsSync } = await import('node:fs');
    // ufw ships as a Debian package (.ci/run installs it); each node gets its own /etc/ufw
    expect(existsSync('/etc/ufw/before.rules'), 'ufw must be installed (apt-get install ufw)').toBe(true);
    lab = await pairLab();
    cpSync('/etc/ufw', lab.etcPath('gw2', 'ufw'), { recursive: true });
    // adverts are NOTRACKed (the hardened rule set), so ufw's ESTABLISHED rule never passes them
    for (const chain of ['PREROUTING', 'OUTPUT']) await lab.execOk('gw2', ['iptables', '-w', '-t', 'raw', '-A', chain, '-p', 'vrrp', '-j', 'CT', '--notrack']);
    const en = await lab.exec('gw2', ['ufw', '--force', 'enable']);
    expect(en.ok, `${en.stdout}${en.stderr}`).toBe(true);
    expect(await lab.readEtc('gw2', 'ufw/ufw.conf')).toMatch(/^ENABLED=yes/m);
    await lab.waitForMaster('gw2');

    const r = await check('gw2');
    const f = of(r, 'vrrp-input-blocked');
    expect(f.map((x) => x.subject).sort(), JSON.stringify(r.findings, null, 2)).toEqual(['VI_LAN', 'VI_WAN']);
    const dry = await lab.doctor('gw2', ['fix', 'vrrp-input-blocked', '--dry-run']);
    expect(dry.stdout).toMatch(/through ufw: `-A ufw-before-input -p vrrp -s 192\.168\.100\.2 -j ACCEPT` in \/etc\/ufw\/before\.rules, then `ufw reload`/);

    const fixed = await lab.doctor('gw2', ['fix', 'vrrp-input-blocked', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    const before = await lab.readEtc('gw2', 'ufw/before.rules');
    expect(before).toContain('-A ufw-before-input -p vrrp -s 192.168.100.2 -j ACCEPT');
    expect(before).toContain('-A ufw-before-input -p vrrp -s 198.51.100.2 -j ACCEPT');
    await lab.waitForNoVip('gw2');
    // ufw rebuilds its chains from its files: the accept is still there after another reload
    const again = await lab.exec('gw2', ['ufw', 'reload'], { timeoutMs: 60_000 });
    expect(again.ok, `${again.command}: ${again.stdout}${again.stderr} timedOut=${again.timedOut}`).toBe(true);
    expect(await lab.hasRule('gw2', 'filter', 'ufw-before-input', ['-s', `${ADDR.gw1.lan}/32`, '-p', 'vrrp', '-j', 'ACCEPT'])).toBe(true);
    await lab.capture('gw2', 'eth0', ['ip', 'proto', '112', 'and', 'src', 'host', ADDR.gw1.lan], async () => undefined, { count: 3, timeoutMs: 10_000 });
    expect(await lab.holdsVip('gw2', ADDR.lanVip)).toBe(false);
    expect(of(await check('gw2'), 'vrrp-input-blocked')).toEqual([]);
  });
});
