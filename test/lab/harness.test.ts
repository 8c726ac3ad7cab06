// Proves the lab itself: a healthy pair SNATs the client to the WAN VIP and fails over; every
// scenario has its real effect; the seed conntrack behaviour holds; nothing outlives destroy().
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR, createLab, labLeftovers, requireRoot, sweepStaleLabs, type Lab } from './harness.js';
import { SNAT_RULES, WIDE_SNAT_RULE } from './keepalived-files.js';

requireRoot();

const snatLines = (save: string) => save.split('\n').filter((l) => l.startsWith('-A POSTROUTING'));
const EXPECTED_SNAT = [
  '-A POSTROUTING -d 100.64.0.0/10 -j RETURN',
  '-A POSTROUTING -d 192.168.0.0/16 -j RETURN',
  '-A POSTROUTING -d 172.16.0.0/12 -j RETURN',
  '-A POSTROUTING -d 10.0.0.0/8 -j RETURN',
  '-A POSTROUTING -s 192.168.100.0/24 ! -p vrrp -j SNAT --to-source 198.51.100.10',
];

async function natRules(lab: Lab, node: 'gw1' | 'gw2'): Promise<string[]> {
  return snatLines((await lab.execOk(node, ['iptables-save', '-t', 'nat'])).stdout);
}

/** The client's echo requests as the upstream host sees them on the wire. */
async function upstreamSees(lab: Lab): Promise<string[]> {
  return lab.capture('upstream', 'eth0', ['icmp', 'and', 'dst', 'host', ADDR.upstream], async () => {
    await lab.waitFor(() => lab.ping('client', ADDR.upstream), { what: 'the client to ping the upstream host' });
  });
}

describe('healthy pair', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab();
  });
  afterAll(() => lab?.destroy());

  it('gives each gateway its own /etc/keepalived and /etc/sysctl.d through /etc/netns', async () => {
    for (const gw of ['gw1', 'gw2'] as const) {
      const inside = await lab.execOk(gw, ['cat', '/etc/keepalived/keepalived.conf']);
      expect(inside.stdout).toBe((await lab.readEtc(gw, 'keepalived/keepalived.conf')).trimEnd());
      expect(inside.stdout).toContain(`router_id ${gw}`);
      expect((await lab.execOk(gw, ['ls', '-A', '/etc/sysctl.d'])).stdout.trim()).toBe('');
      expect((await lab.execOk(gw, ['cat', '/etc/sysctl.conf'])).stdout).toContain(`# ${gw}: the lab node's own /etc/sysctl.conf`);
      // forwarding is a per-namespace sysctl: on in both members, off in the client
      expect((await lab.execOk(gw, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
      const scripts = await lab.execOk(gw, [
        'stat',
        '-c',
        '%a %U %n',
        ...['master', 'backup', 'fault', 'stop'].map((k) => `/etc/keepalived/scripts/notify_${k}.sh`),
      ]);
      for (const line of scripts.stdout.trim().split('\n')) expect(line).toMatch(/^755 root \/etc\/keepalived\/scripts\/notify_\w+\.sh$/);
      const conf = inside.stdout;
      expect(conf).toContain('enable_script_security');
      expect(conf).toContain('script_user root');
      expect(conf).toMatch(/unicast_src_ip/);
    }
    expect((await lab.execOk('client', ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
    // the root namespace's /etc is untouched
    expect(existsSync('/etc/keepalived/keepalived.conf') ? readFileSync('/etc/keepalived/keepalived.conf', 'utf8') : '').not.toContain('hagw lab');
  });

  it('has gw1 MASTER with both VIPs and the SNAT rules, gw2 BACKUP with neither', async () => {
    expect(await lab.holdsVip('gw1', ADDR.lanVip)).toBe(true);
    expect(await lab.holdsVip('gw1', ADDR.wanVip)).toBe(true);
    expect(await lab.holdsVip('gw2', ADDR.lanVip)).toBe(false);
    expect(await lab.holdsVip('gw2', ADDR.wanVip)).toBe(false);
    expect(await natRules(lab, 'gw1')).toEqual(EXPECTED_SNAT);
    expect(await natRules(lab, 'gw2')).toEqual([]);
    expect(await lab.keepalivedLog('gw1')).toContain('(VI_LAN) Entering MASTER STATE');
    expect(await lab.keepalivedLog('gw2')).toContain('(VI_LAN) Entering BACKUP STATE');
    // healthy default: no raw rules, filter policy ACCEPT
    expect((await lab.execOk('gw1', ['iptables-save', '-t', 'raw'])).stdout).not.toContain('-A ');
    expect((await lab.execOk('gw1', ['iptables', '-S', 'INPUT'])).stdout.trim()).toBe('-P INPUT ACCEPT');
  });

  it('runs keepalived with the documented argv, its log on fd 1, a private /tmp per node', async () => {
    const pids = { gw1: lab.keepalivedPid('gw1')!, gw2: lab.keepalivedPid('gw2')! };
    for (const gw of ['gw1', 'gw2'] as const) {
      const pid = pids[gw];
      expect(pid).toBeGreaterThan(0);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      expect(argv).toEqual([
        'keepalived',
        '-n',
        '-l',
        '-D',
        '-f',
        '/etc/keepalived/keepalived.conf',
        '-p',
        `${lab.nodeDir(gw)}/keepalived.pid`,
        '-r',
        `${lab.nodeDir(gw)}/vrrp.pid`,
        '-c',
        `${lab.nodeDir(gw)}/checkers.pid`,
      ]);
      // as the doctor sees it: from another `ip netns exec` in the same node
      expect((await lab.execOk(gw, ['readlink', `/proc/${pid}/fd/1`])).stdout.trim()).toBe(lab.keepalivedLogPath(gw));
      expect((await lab.execOk(gw, ['readlink', '/proc/self/ns/net'])).stdout.trim()).toBe(
        (await lab.execOk(gw, ['readlink', `/proc/${pid}/ns/net`])).stdout.trim(),
      );
      // a session of its own, detached from the test runner
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      expect(Number(fields[3])).toBe(pid);
    }
    // SIGUSR1 dumps land in each node's own /tmp, not in a shared /tmp/keepalived.data
    for (const gw of ['gw1', 'gw2'] as const) process.kill(pids[gw], 'SIGUSR1');
    for (const [gw, state] of [
      ['gw1', 'MASTER'],
      ['gw2', 'BACKUP'],
    ] as const) {
      const dump = await lab.waitFor(
        () => {
          const f = `/proc/${pids[gw]}/root/tmp/keepalived.data`;
          return existsSync(f) && readFileSync(f, 'utf8').includes('State = ') ? readFileSync(f, 'utf8') : undefined;
        },
        { what: `${gw}'s keepalived.data` },
      );
      expect(dump).toContain(`State = ${state}`);
      expect(existsSync(`${lab.nodeDir(gw)}/tmp/keepalived.data`)).toBe(true);
    }
  });

  it('lets the client reach the upstream host only through SNAT to the WAN VIP', async () => {
    // the upstream host has no way back to the LAN itself
    const route = await lab.exec('upstream', ['ip', 'route', 'get', ADDR.client]);
    expect(route.ok).toBe(false);
    const seen = await upstreamSees(lab);
    expect(seen[0]).toContain(`${ADDR.wanVip} > ${ADDR.upstream}: ICMP echo request`);
    const ct = await lab.execOk('gw1', ['conntrack', '-L', '-p', 'icmp', '-s', ADDR.client, '-d', ADDR.upstream]);
    expect(ct.stdout).toMatch(new RegExp(`src=${ADDR.client} dst=${ADDR.upstream} .* src=${ADDR.upstream} dst=${ADDR.wanVip.replace(/\./g, '\\.')}`));
  });

  it('fails over to gw2 when gw1 stops, and back when gw1 returns, leaving no SNAT on gw2', async () => {
    await lab.stopKeepalived('gw1');
    expect(lab.keepalivedPid('gw1')).toBeUndefined();
    expect((await lab.notifyEvents('gw1')).at(-1)).toBe('stop');
    await lab.waitForMaster('gw2');
    await lab.waitForNoVip('gw1');
    expect(await natRules(lab, 'gw1')).toEqual([]);
    await lab.waitFor(async () => (await natRules(lab, 'gw2')).length === EXPECTED_SNAT.length, { what: 'notify_master to add SNAT on gw2' });
    expect(await natRules(lab, 'gw2')).toEqual(EXPECTED_SNAT);
    expect((await upstreamSees(lab))[0]).toContain(`${ADDR.wanVip} > ${ADDR.upstream}`);

    await lab.startKeepalived('gw1');
    await lab.waitForSteadyState();
    expect(await natRules(lab, 'gw2')).toEqual([]);
    expect(await natRules(lab, 'gw1')).toEqual(EXPECTED_SNAT);
    expect((await upstreamSees(lab))[0]).toContain(`${ADDR.wanVip} > ${ADDR.upstream}`);
  });

  it('runs the doctor in a node and hands back the process result', async () => {
    const r = await lab.doctor('gw1', ['--version']);
    expect(typeof r.exitCode).toBe('number');
    expect(typeof r.stdout).toBe('string');
    expect(typeof r.stderr).toBe('string');
  });
});

describe('hardened variant', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ hardened: true });
  });
  afterAll(() => lab?.destroy());

  it('accepts VRRP from the peer, NOTRACKs it, and still elects gw1 and SNATs', async () => {
    const filter = (await lab.execOk('gw1', ['iptables', '-S', 'INPUT'])).stdout;
    expect(filter).toContain(`-A INPUT -s ${ADDR.gw2.lan}/32 -p vrrp -j ACCEPT`);
    expect(filter).toContain(`-A INPUT -s ${ADDR.gw2.wan}/32 -p vrrp -j ACCEPT`);
    const raw = (await lab.execOk('gw2', ['iptables-save', '-t', 'raw'])).stdout;
    expect(raw).toContain('-A PREROUTING -p vrrp -j CT --notrack');
    expect(raw).toContain('-A OUTPUT -p vrrp -j CT --notrack');
    expect(await lab.conntrackVrrp('gw1')).toEqual([]);
    expect((await upstreamSees(lab))[0]).toContain(`${ADDR.wanVip} > ${ADDR.upstream}`);
  });
});

describe('the seed conntrack failure (snat-catches-vrrp, then mended)', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab();
  });
  afterAll(() => lab?.destroy());

  it('NATs the master adverts, keeps doing so after the rule is mended, until conntrack -D', async () => {
    const caught = await lab.scenario('snat-catches-vrrp');
    expect(caught.node).toBe('gw1');
    const nated = (await lab.conntrackVrrp('gw1')).find((e) => e.origSrc === ADDR.gw1.lan)!;
    expect(nated).toMatchObject({ origDst: ADDR.gw2.lan, replySrc: ADDR.gw2.lan, replyDst: ADDR.wanVip, nated: true });
    expect(caught.evidence.join('\n')).toContain(`unicast source address ${ADDR.wanVip} not a unicast peer`);

    const mended = await lab.scenario('snat-catches-vrrp-mended');
    expect(await lab.hasRule('gw1', 'nat', 'POSTROUTING', WIDE_SNAT_RULE)).toBe(false);
    expect(mended.evidence.filter((l) => l.includes(`${ADDR.wanVip} > ${ADDR.gw2.lan}: VRRPv2`))).toHaveLength(2);
    const still = (await lab.conntrackVrrp('gw1')).find((e) => e.origSrc === ADDR.gw1.lan)!;
    expect(still.nated).toBe(true);
    // refreshed by every advert: the generic timeout (600 s) never runs down
    expect(Number(/^\S+\s+112\s+(\d+)/.exec(still.line)?.[1])).toBeGreaterThanOrEqual(595);

    const del = await lab.exec('gw1', ['conntrack', '-D', '-p', '112']);
    expect(del.ok).toBe(true);
    // the next advert starts a fresh flow, judged by the mended rules: not NATed any more
    const fresh = await lab.waitFor(async () => (await lab.conntrackVrrp('gw1')).find((e) => e.origSrc === ADDR.gw1.lan), { what: 'a fresh VRRP flow on gw1' });
    expect(fresh.nated).toBe(false);
    expect(fresh.replyDst).toBe(ADDR.gw1.lan);
  });
});

describe('scenarios', () => {
  let lab: Lab | undefined;
  const fresh = async () => {
    await lab?.destroy();
    lab = await createLab();
    return lab;
  };
  afterAll(() => lab?.destroy());

  it('ip-forward-off: the master stops forwarding, the client loses the upstream host', async () => {
    const l = await fresh();
    expect(await l.ping('client', ADDR.upstream)).toBe(true);
    const r = await l.scenario('ip-forward-off');
    expect(r.evidence).toEqual(['net.ipv4.ip_forward = 0']);
    expect(await l.holdsVip('gw1', ADDR.lanVip)).toBe(true);
    expect(await l.ping('client', ADDR.upstream)).toBe(false);
  });

  it('vrid-out-of-range: keepalived -t rejects the rewritten config at the line it names', async () => {
    const l = await fresh();
    const r = await l.scenario('vrid-out-of-range', 'gw2');
    const conf = (await l.readEtc('gw2', 'keepalived/keepalived.conf')).split('\n');
    expect(conf[r.line! - 1]).toMatch(/virtual_router_id 352$/);
    const t = await l.exec('gw2', ['keepalived', '-t', '-f', '/etc/keepalived/keepalived.conf']);
    expect(t.exitCode).toBe(5);
    expect(`${t.stdout}${t.stderr}`).toContain(`Line ${r.line}) number '352' outside range`);
    // nobody reloaded: the running pair is still healthy
    expect(await l.holdsVip('gw1', ADDR.lanVip)).toBe(true);
  });

  it('snat-on-backup: the backup carries the master SNAT rules', async () => {
    const l = await fresh();
    await l.scenario('snat-on-backup');
    for (const rule of SNAT_RULES) expect(await l.hasRule('gw2', 'nat', 'POSTROUTING', rule)).toBe(true);
    expect(await l.holdsVip('gw2', ADDR.wanVip)).toBe(false);
  });

  it('vrrp-dropped-on-backup: both nodes end up holding the VIPs', async () => {
    const l = await fresh();
    await l.scenario('vrrp-dropped-on-backup');
    for (const gw of ['gw1', 'gw2'] as const) {
      expect(await l.holdsVip(gw, ADDR.lanVip)).toBe(true);
      expect(await l.holdsVip(gw, ADDR.wanVip)).toBe(true);
    }
    expect((await l.execOk('gw2', ['iptables', '-S', 'INPUT'])).stdout).toContain('-A INPUT -p vrrp -j DROP');
  });

  it('stop-master: gw2 takes both VIPs and the SNAT rules', async () => {
    const l = await fresh();
    await l.scenario('stop-master');
    expect(l.keepalivedPid('gw1')).toBeUndefined();
    expect(await l.holdsVip('gw2', ADDR.lanVip)).toBe(true);
    await l.waitFor(async () => (await natRules(l, 'gw2')).length === EXPECTED_SNAT.length, { what: 'SNAT on gw2' });
    expect(await natRules(l, 'gw1')).toEqual([]);
  });

  it('third-node-same-vrid: a third router advertises VRID 51 with another VIP', async () => {
    const l = await fresh();
    const r = await l.scenario('third-node-same-vrid');
    expect(r.evidence[0]).toContain(`${ADDR.gw3.lan} > ${ADDR.gw1.lan}: VRRPv2, Advertisement, vrid ${ADDR.vridLan}`);
    expect(await l.holdsVip('gw3', ADDR.gw3Vip)).toBe(true);
    expect(await l.holdsVip('gw1', ADDR.lanVip)).toBe(true);
    expect(l.keepalivedPid('gw3')).toBeGreaterThan(0);
  });
});

describe('teardown', () => {
  it('destroy() leaves no namespace, process, /etc/netns entry or run dir, and may be called twice', async () => {
    const lab = await createLab();
    const { id } = lab;
    await lab.scenario('third-node-same-vrid');
    const pids = (['gw1', 'gw2', 'gw3'] as const).map((n) => lab.keepalivedPid(n)!);
    expect(pids.every((p) => p > 0)).toBe(true);
    expect(labLeftovers(id).length).toBeGreaterThan(0);
    await lab.destroy();
    await lab.destroy();
    expect(labLeftovers(id)).toEqual([]);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(false);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(id);
  });

  it('sweepStaleLabs() removes what a killed run left behind and spares live labs', async () => {
    const live = await createLab({ start: false });
    try {
      // a run whose owner died: namespace with a process in it, /etc/netns entry, run dir
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      const deadPid = Number(dead.stdout);
      const id = `hd${Math.floor(Math.random() * 0xffffff)
        .toString(16)
        .padStart(6, '0')}`;
      mkdirSync(`/tmp/${id}`, { recursive: true });
      writeFileSync(`/tmp/${id}/owner.json`, JSON.stringify({ pid: deadPid, start: '1' }));
      mkdirSync(`/etc/netns/${id}-gw1/keepalived`, { recursive: true });
      expect(spawnSync('ip', ['netns', 'add', `${id}-gw1`]).status).toBe(0);
      const sleeper = spawnSync('sh', ['-c', `ip netns exec ${id}-gw1 setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' });
      const sleeperPid = Number(sleeper.stdout.trim());
      await live.waitFor(() => spawnSync('ip', ['netns', 'pids', `${id}-gw1`], { encoding: 'utf8' }).stdout.trim() !== '', {
        what: 'the sleeper to run in the stale namespace',
      });

      const removed = await sweepStaleLabs();
      expect(removed).toContain(id);
      expect(removed).not.toContain(live.id);
      expect(labLeftovers(id)).toEqual([]);
      await live.waitFor(() => !existsSync(`/proc/${sleeperPid}`) || readFileSync(`/proc/${sleeperPid}/stat`, 'utf8').includes(') Z'), {
        what: 'the stale sleeper to die',
      });
      // the live lab is untouched
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).toContain(live.nodes.gw1);
      expect(existsSync(live.etcPath('gw1', 'keepalived/keepalived.conf'))).toBe(true);
    } finally {
      await live.destroy();
    }
    expect(labLeftovers(live.id)).toEqual([]);
  });
});
