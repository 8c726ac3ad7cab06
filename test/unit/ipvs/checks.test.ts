import { describe, expect, it } from 'vitest';
import type { ProbeRecord } from '../../../src/types.js';
import { ipvsDsnat, ipvsModule, ipvsRealServers } from '../../../checks/ipvs.js';
import { cmd, CONF, file, fixture, keepalivedRunning, missing, run } from '../routing/helpers.js';
import { dsnatStatus } from '../../../src/ipvs/analyze.js';
import { parseIpvsList, parseLocalAddresses } from '../../../src/ipvs/ipvsadm.js';

const DIRECTOR_CONF = `global_defs {
    router_id lvs1
}
virtual_server 203.0.113.10 443 {
    lb_algo wlc
    lb_kind NAT
    persistence_timeout 300
    protocol TCP
    real_server 10.0.0.11 443 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
    real_server 10.0.0.12 443 {
        weight 1
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
virtual_server 203.0.113.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.0.0.11 80 {
        weight 1
    }
    real_server 10.0.0.12 80 {
        weight 1
    }
    real_server 10.0.0.15 80 {
        weight 1
    }
}
virtual_server fwmark 1 {
    lb_algo sh
    lb_kind DR
    persistence_timeout 600
    real_server 10.0.0.11 0 {
        weight 1
    }
}
virtual_server 203.0.113.20 25 {
    lb_kind NAT
    protocol TCP
    real_server 10.0.0.11 25 {
        weight 1
    }
}
`;

const DSNAT_CONF = `local_address_group laddr_g1 {
    192.168.100.10-11
}
virtual_server 0.0.0.0 0 {
    lb_algo rr
    lb_kind SNAT
    protocol TCP
    laddr_group_name laddr_g1
    real_server 198.51.100.1 0 {
        weight 1
    }
}
`;

const kconf = (text: string) => file(`kconf:${CONF}`, text, CONF);
const loaded = (): ProbeRecord[] => [
  { id: 'dir:/sys/module/ip_vs', kind: 'dir', path: '/sys/module/ip_vs', status: 'ok', stdout: '["parameters","refcnt"]', stderr: '', ms: 1 },
];
const noIpvs = (): ProbeRecord[] => [
  missing('dir:/sys/module/ip_vs', 'dir'),
  cmd('modinfo-ip_vs', '', { exitCode: 1, stderr: 'modinfo: ERROR: Module ip_vs not found.\n' }),
  cmd('ipvsadm-list', '', { exitCode: 2, stderr: fixture('ipvs', 'ipvsadm-Ln.no-ipvs-kernel.txt').replace(/exit=2\n$/, '') }),
];

function director(extra: ProbeRecord[] = []): ProbeRecord[] {
  return [
    kconf(DIRECTOR_CONF),
    keepalivedRunning(true),
    ...loaded(),
    cmd('ipvsadm-list', fixture('ipvs', 'ipvsadm-Ln.director.txt')),
    cmd('ipvsadm-stats', fixture('ipvs', 'ipvsadm-Ln-stats.director.txt')),
    cmd('ipvsadm-conns', fixture('ipvs', 'ipvsadm-Lnc.director.txt')),
    ...extra,
  ];
}

describe('ipvs-module-missing', () => {
  it('virtual_server blocks on a kernel without IPVS', () => {
    const { findings } = run(ipvsModule, [kconf(DIRECTOR_CONF), keepalivedRunning(true), ...noIpvs()]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'ipvs-module-missing', severity: 'error', location: { file: CONF, line: 4 } });
    expect(findings[0]!.evidence[0]!.excerpt).toMatch(/Protocol not available/);
  });

  it('silent when loaded, when there is no virtual_server, and when the module is only not loaded yet with keepalived stopped', () => {
    expect(run(ipvsModule, [kconf(DIRECTOR_CONF), ...loaded()]).findings).toEqual([]);
    expect(run(ipvsModule, [kconf('global_defs {\n}\n'), ...noIpvs()]).findings).toEqual([]);
    const loadable = [missing('dir:/sys/module/ip_vs', 'dir'), cmd('modinfo-ip_vs', '/lib/modules/6.1.0/kernel/net/netfilter/ipvs/ip_vs.ko\n')];
    expect(run(ipvsModule, [kconf(DIRECTOR_CONF), keepalivedRunning(false), ...loadable]).findings).toEqual([]);
    expect(run(ipvsModule, [kconf(DIRECTOR_CONF), keepalivedRunning(true), ...loadable]).findings[0]!.title).toMatch(/not loaded/);
  });

  it('skips when nothing tells (non-root: ipvsadm and /proc/net/ip_vs skipped)', () => {
    const r = run(ipvsModule, [
      kconf(DIRECTOR_CONF),
      { id: 'ipvsadm-list', kind: 'command', status: 'skipped', stdout: '', stderr: '', ms: 0, reason: 'needs root' },
    ]);
    expect(r.run.status).toBe('skip');
  });

  it('dsnat only, stock kernel: explained at info, not an error', () => {
    const { findings } = run(ipvsModule, [kconf(DSNAT_CONF), keepalivedRunning(true), ...noIpvs()]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.severity).toBe('info');
    expect(findings[0]!.detail).toMatch(/stock kernel/);
  });
});

describe('ipvs-realserver-down', () => {
  it('quiesced with pinned clients, NAT without replies, missing real server, missing service', () => {
    const { findings } = run(ipvsRealServers, director());
    const titles = findings.map((f) => f.title);
    expect(titles).toEqual([
      'NAT real server 10.0.0.11:443 of TCP 203.0.113.10:443 never replies through the director',
      'real server 10.0.0.12:443 of TCP 203.0.113.10:443 has weight 0 (quiesced)',
      'real server 10.0.0.15:80 is missing from TCP 203.0.113.10:80',
      'virtual service TCP 203.0.113.20:25 is not in IPVS',
    ]);
    expect(findings.every((f) => f.code === 'ipvs-realserver-down' && f.severity === 'error')).toBe(true);
    const quiesced = findings[1]!;
    expect(quiesced.detail).toMatch(/2 persistence template\(s\) still pin clients/);
    expect(quiesced.detail).toMatch(/expire_quiescent_template=1/);
    expect(quiesced.evidence.filter((e) => e.probe === 'ipvsadm-conns')).toHaveLength(2);
    expect(findings[0]!.evidence[0]).toMatchObject({ probe: 'ipvsadm-stats' });
    // DR (Route) real servers never show replies: FWM 1's 10.0.0.11 with OutPkts 0 is not reported
    expect(findings.some((f) => f.subject === 'FWM 1')).toBe(false);
  });

  it('with expire_quiescent_template already 1 it does not suggest it', () => {
    const { findings } = run(
      ipvsRealServers,
      director([file('sysctl:net.ipv4.vs.expire_quiescent_template', '1\n', '/proc/sys/net/ipv4/vs/expire_quiescent_template')]),
    );
    expect(findings.find((f) => f.title.includes('weight 0'))!.detail).not.toMatch(/expire_quiescent_template=1 lets/);
  });

  it('falls back to /proc/net/ip_vs; with keepalived stopped, only the table itself is judged', () => {
    const { findings } = run(ipvsRealServers, [
      kconf(DIRECTOR_CONF),
      keepalivedRunning(false),
      file('proc-net-ip_vs', fixture('ipvs', 'proc-net-ip_vs.director.txt'), '/proc/net/ip_vs'),
    ]);
    expect(findings.map((f) => f.title)).toEqual(['real server 10.0.0.12:443 of TCP 203.0.113.10:443 has weight 0 (quiesced)']);
  });

  it('silent on a healthy NAT director', () => {
    const conf = `virtual_server 203.0.113.10 80 {\n    lb_kind NAT\n    protocol TCP\n    real_server 10.0.0.11 80 {\n        weight 1\n    }\n    real_server 10.0.0.12 80 {\n        weight 1\n    }\n}\n`;
    const r = run(ipvsRealServers, [
      kconf(conf),
      keepalivedRunning(true),
      ...loaded(),
      cmd('ipvsadm-list', fixture('ipvs', 'ipvsadm-Ln.healthy.txt')),
      cmd('ipvsadm-stats', fixture('ipvs', 'ipvsadm-Ln-stats.healthy.txt')),
    ]);
    expect(r.run.status).toBe('pass');
  });

  it('passes with nothing to judge: no virtual_server and no IPVS in the kernel', () => {
    expect(run(ipvsRealServers, [kconf('global_defs {\n}\n'), ...noIpvs()]).run.status).toBe('pass');
  });

  it('skips with the reason when the table cannot be read', () => {
    expect(run(ipvsRealServers, [kconf(DIRECTOR_CONF), ...noIpvs()]).run.reason).toMatch(/IPVS table not available \(ipvsadm exited 2: Can't initialize ipvs/);
    expect(run(ipvsRealServers, [cmd('ipvsadm-list', 'IP Virtual Server version 1.2.1 (size=4096)\nGARBAGE\n')]).run.reason).toMatch(/unrecognised line/);
  });
});

describe('dsnat', () => {
  it('IPVS loaded but ipvsadm -G unsupported: explained at info', () => {
    const r = run(ipvsDsnat, [
      kconf(DSNAT_CONF),
      ...loaded(),
      cmd('ipvsadm-list', fixture('ipvs', 'ipvsadm-Ln.empty.txt')),
      cmd('ipvsadm-laddr', '', { exitCode: 2, stderr: "ipvsadm: invalid option -- 'G'\n" }),
    ]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ code: 'ipvs-module-missing', severity: 'info', subject: 'dsnat' });
    expect(r.findings[0]!.evidence[0]!.excerpt).toBe("ipvsadm: invalid option -- 'G'");
  });

  it('silent on a patched kernel with the pool in place; the 0.0.0.0:0 service is not judged as a plain service', () => {
    const records = [
      kconf(DSNAT_CONF),
      keepalivedRunning(true),
      ...loaded(),
      cmd('ipvsadm-list', fixture('ipvs', 'ipvsadm-Ln.dsnat.txt')),
      cmd('ipvsadm-laddr', fixture('ipvs', 'ipvsadm-G.dsnat.txt')),
    ];
    expect(run(ipvsDsnat, records).findings).toEqual([]);
    expect(run(ipvsRealServers, records).findings).toEqual([]);
    expect(run(ipvsModule, records).findings).toEqual([]);
  });
});

describe('dsnatStatus (pure)', () => {
  const vs = { address: '0.0.0.0', port: 0, protocol: 'TCP', laddrGroupName: 'g', realServers: [], loc: { file: CONF, line: 4 } };
  const list = (name: string) => parseIpvsList(fixture('ipvs', name));
  it('tells a stock build, a missing service, an empty pool and a healthy pool apart', () => {
    expect(dsnatStatus(vs, undefined, { exitCode: 2, stdout: '', stderr: "ipvsadm: invalid option -- 'G'\n" }, undefined)).toMatchObject({
      kind: 'unsupported',
    });
    const ok = { exitCode: 0, stdout: fixture('ipvs', 'ipvsadm-G.dsnat.txt'), stderr: '' };
    expect(dsnatStatus(vs, list('ipvsadm-Ln.empty.txt'), ok, parseLocalAddresses(ok.stdout))).toMatchObject({ kind: 'service-missing' });
    expect(dsnatStatus(vs, list('ipvsadm-Ln.dsnat.txt'), ok, parseLocalAddresses(ok.stdout))).toEqual({ kind: 'ok', vs, pool: 2 });
    expect(dsnatStatus(vs, list('ipvsadm-Ln.dsnat.txt'), ok, [{ service: '0.0.0.0:0', total: 0 }])).toMatchObject({ kind: 'empty-pool' });
  });
});
