// A pair judged with --peer: neither node's auth_pass reaches a snapshot taken with --peer (this
// node's part or the peer's embedded one) or the report; and the VRRP version compared between
// the nodes is the one each speaks (the instance's own, else global_defs vrrp_version, else 2).
import { describe, expect, it } from 'vitest';
import { analysePair, embedPeer } from '../../../src/peer/pair.js';
import { redactSnapshot } from '../../../src/secrets.js';
import { renderJson, renderJunit } from '../../../src/report/formats.js';
import { renderText } from '../../../src/report/text.js';
import { cmd, file, ipAddrJson, makeSnapshot } from '../../support/snapshot.js';
import type { Snapshot } from '../../../src/types.js';

const CONF = '/etc/keepalived/keepalived.conf';
const conf = (o: { pass?: string; prio: number; self: string; peer: string; globalVersion?: 2 | 3; version?: 2 | 3 }) =>
  `global_defs {\n  router_id gw\n${o.globalVersion ? `  vrrp_version ${o.globalVersion}\n` : ''}}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority ${o.prio}\n  advert_int 1\n${o.version ? `  version ${o.version}\n` : ''}${o.pass ? `  authentication {\n    auth_type PASS\n    auth_pass ${o.pass}\n  }\n` : ''}  unicast_src_ip ${o.self}\n  unicast_peer {\n    ${o.peer}\n  }\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n`;

function node(
  hostname: string,
  self: string,
  peer: string,
  c: Omit<Parameters<typeof conf>[0], 'self' | 'peer'>,
  extra: ReturnType<typeof cmd>[] = [],
): Snapshot {
  return makeSnapshot(
    [
      file(`kconf:${CONF}`, CONF, conf({ ...c, self, peer })),
      cmd('ip-addr', ['ip', '-j', 'addr'], ipAddrJson({ eth0: [`${self}/24`] })),
      cmd('hostname', ['hostname'], `${hostname}\n`),
      ...extra,
    ],
    { hostname },
    { config: CONF },
  );
}

const pair = (local: Snapshot, peer: Snapshot) => embedPeer(local, { status: { host: 'gw2', reachable: true, via: 'ssh' }, snapshot: peer });

describe('secrets in a pair judged with --peer', () => {
  const LOCAL = 'LocalPw12345';
  const PEER = 'PeerPw98765x';
  // each node's keepalived -t quotes its password; this node's log quotes the peer's (as a line could)
  const local = node('gw1', '10.0.0.2', '10.0.0.3', { pass: LOCAL, prio: 150 }, [
    cmd('keepalived-configtest', ['keepalived', '-t', '-f', CONF], '', 5, `(${CONF}: Line 12) Block authentication has extra parameters ${LOCAL} ${PEER}\n`),
  ]);
  const peer = node('gw2', '10.0.0.3', '10.0.0.2', { pass: PEER, prio: 100 }, [
    cmd('keepalived-configtest', ['keepalived', '-t', '-f', CONF], '', 5, `(${CONF}: Line 12) Truncating auth_pass to 8 characters ${PEER} ${LOCAL}\n`),
  ]);
  const hidden = (text: string) => {
    for (const s of [LOCAL, PEER]) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(s.slice(0, 8));
    }
  };

  it("a snapshot taken with --peer is redacted in both parts, the peer's embedded one included", () => {
    const red = redactSnapshot(pair(local, peer));
    hidden(JSON.stringify(red));
    const inner = JSON.parse(red.probes['peer-snapshot']!.stdout) as Snapshot;
    expect(inner.probes[`kconf:${CONF}`]!.stdout).toMatch(/auth_pass REDACTED:12:[0-9a-f]{24}/);
    // the redacted snapshot still tells that the two passwords differ
    const again = analysePair(red);
    expect(again.findings.filter((f) => f.code === 'vrrp-auth-mismatch').length).toBeGreaterThan(0);
  });

  it("the report (text, JSON, JUnit) of a live pair shows neither password, on either node's findings", () => {
    const report = analysePair(pair(local, peer));
    expect(report.findings.some((f) => f.node === 'gw2')).toBe(true);
    expect(report.findings.map((f) => f.code)).toContain('vrrp-auth-mismatch');
    for (const v of [renderText(report, { color: false }), renderJson(report), renderJunit(report)]) hidden(v);
  });
});

describe('vrrp-version-mismatch between the nodes', () => {
  const version = (l: Parameters<typeof conf>[0] extends infer C ? Partial<C> : never, p: Partial<Parameters<typeof conf>[0]>) =>
    analysePair(pair(node('gw1', '10.0.0.2', '10.0.0.3', { prio: 150, ...l }), node('gw2', '10.0.0.3', '10.0.0.2', { prio: 100, ...p }))).findings.filter(
      (f) => f.code === 'vrrp-version-mismatch' && / on the peer /.test(f.title),
    );

  it('reads global_defs vrrp_version on either node', () => {
    const f = version({ globalVersion: 3 }, {});
    expect(f.map((x) => x.title)).toEqual(['(VI_1) VRRP version 3 here, 2 on the peer gw2']);
    expect(f[0]!.evidence.map((e) => e.excerpt).join('\n')).toMatch(/version 3 \(vrrp_version in global_defs\)[\s\S]*version 2 \(the default\)/);
    expect(version({}, { globalVersion: 3 }).map((x) => x.title)).toEqual(['(VI_1) VRRP version 2 here, 3 on the peer gw2']);
  });

  it("an instance's own version overrides global_defs", () => {
    // both speak 3: one by global_defs, the other by the instance
    expect(version({ globalVersion: 3 }, { version: 3 })).toEqual([]);
    // global 3 overridden by version 2 in the instance, against a peer on 3
    expect(version({ globalVersion: 3, version: 2 }, { globalVersion: 3 }).map((x) => x.title)).toEqual(['(VI_1) VRRP version 2 here, 3 on the peer gw2']);
    expect(version({ globalVersion: 2 }, { globalVersion: 2 })).toEqual([]);
  });
});
