// Issue 14 (part B) on the real keepalived pair, around keepalived rather than in its config:
// scripts that work in a shell but not under keepalived (its PATH, timeouts), a network manager
// configured to drop the VIPs, and a SNAT pair without (or with a stuck) conntrackd.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { ADDR, createLab, destroyLabsAfterEach, requireRoot, waitFor, type Lab } from './harness.js';
import type { Finding, Report } from '../../src/types.js';
import { keepalivedConf, notifyScript } from './keepalived-files.js';

requireRoot();
let lab: Lab | undefined;
destroyLabsAfterEach();

const SHELL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** what an init without systemd (start-stop-daemon) or a trimmed unit gives keepalived */
const KEEPALIVED_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

async function findings(node: 'gw1' | 'gw2', code: string, env: Record<string, string> = {}): Promise<Finding[]> {
  const { report } = await lab!.report<Report>(node, [], env);
  expect(
    report.checks.filter((c) => c.id.startsWith('field-') && c.status === 'error'),
    JSON.stringify(report.checks),
  ).toEqual([]);
  return report.findings.filter((f) => f.code === code);
}

/** keepalived.conf with a track script on VI_LAN that moves the pair when it fails (weight -60 > gap 50). */
function withCheck(n: 'gw1' | 'gw2', script: string, timing = 'interval 1\n    fall 1\n    rise 1'): string {
  return keepalivedConf(n)
    .replace('vrrp_sync_group VG_GW {', `vrrp_script chk {\n    script "${script}"\n    ${timing}\n    weight -60\n}\n\nvrrp_sync_group VG_GW {`)
    .replace('    notify_master', '    sync_group_tracking_weight\n    notify_master')
    .replace(/(vrrp_instance VI_LAN \{[\s\S]*?)(\n\}\n)/, '$1\n    track_script {\n        chk\n    }$2');
}

describe('script-runs-differently (catalogue 19, 21)', () => {
  it("a track script whose command is not on keepalived's PATH: works in a shell, fails under keepalived (exit 127); absolute path cures it", async () => {
    lab = await createLab({ start: false, keepalivedEnv: () => ({ PATH: KEEPALIVED_PATH }) });
    const bin = `${lab.runDir}/bin`;
    await lab.runOk(['mkdir', '-p', bin]);
    await lab.runOk(['sh', '-c', `printf '#!/bin/sh\\nexit 0\\n' > ${bin}/labprobe && chmod 0755 ${bin}/labprobe`]);
    const doctorEnv = { PATH: `${SHELL_PATH}:${bin}` };
    for (const n of ['gw1', 'gw2'] as const) {
      await lab.writeEtc(n, 'keepalived/scripts/chk.sh', '#!/bin/sh\nlabprobe\n', 0o755);
      await lab.writeEtc(n, 'keepalived/keepalived.conf', withCheck(n, '/etc/keepalived/scripts/chk.sh'));
    }
    // in the operator's shell the check passes
    expect((await lab.exec('gw1', ['/etc/keepalived/scripts/chk.sh'], { env: doctorEnv })).ok).toBe(true);
    await lab.startKeepalived('gw2');
    await lab.startKeepalived('gw1');
    // under keepalived it cannot find labprobe: the check fails (exit 127) on both nodes
    await waitFor(async () => /Script `chk` now returning 127/.test(await lab!.keepalivedLog('gw1')), {
      what: 'chk to return 127 under keepalived on gw1',
      timeoutMs: 15_000,
    });
    const f = await findings('gw1', 'script-runs-differently', doctorEnv);
    expect(f.map((x) => x.title)).toEqual(["script of vrrp_script chk: labprobe is not on keepalived's PATH"]);
    expect(f[0]!.evidence.map((e) => e.excerpt)).toEqual(expect.arrayContaining([`keepalived's PATH=${KEEPALIVED_PATH}`, `labprobe: ${bin} (used: labprobe)`]));
    expect(f[0]!.evidence.some((e) => /Script `chk` now returning 127/.test(e.excerpt))).toBe(true);

    // the cure the finding names: an absolute path (keepalived reads the script at every run)
    for (const n of ['gw1', 'gw2'] as const) await lab.writeEtc(n, 'keepalived/scripts/chk.sh', `#!/bin/sh\n${bin}/labprobe\n`, 0o755);
    await waitFor(async () => /Script `chk` now returning 0/.test(await lab!.keepalivedLog('gw1')), {
      what: 'chk to succeed under keepalived on gw1',
      timeoutMs: 15_000,
    });
    await lab.waitForMaster('gw1', 20_000);
    expect(await findings('gw1', 'script-runs-differently', doctorEnv)).toEqual([]);
  });

  it('a track script slower than its timeout: keepalived times it out and skips runs; a fast check (after a restart) is clean', async () => {
    lab = await createLab({ start: false });
    for (const n of ['gw1', 'gw2'] as const) {
      await lab.writeEtc(n, 'keepalived/scripts/chk.sh', '#!/bin/sh\nsleep 3\n', 0o755);
      await lab.writeEtc(n, 'keepalived/keepalived.conf', withCheck(n, '/etc/keepalived/scripts/chk.sh', 'interval 1\n    timeout 1\n    fall 2\n    rise 1'));
    }
    await lab.startKeepalived('gw1');
    await waitFor(async () => /timed_out|being timed out, expect idle|already running, expect idle/.test(await lab!.keepalivedLog('gw1')), {
      what: 'keepalived to time the slow check out on gw1',
      timeoutMs: 20_000,
    });
    const f = await findings('gw1', 'script-runs-differently');
    expect(f.map((x) => x.title)).toEqual([
      expect.stringMatching(/^track script chk (times out|overlaps itself \(still running at its next interval\)) \(\d+ log line\(s\)\)$/),
    ]);
    expect(f[0]!.evidence.some((e) => /timed_out|timed out|skipping run/.test(e.excerpt))).toBe(true);

    await lab.writeEtc('gw1', 'keepalived/scripts/chk.sh', '#!/bin/sh\nexit 0\n', 0o755);
    await lab.stopKeepalived('gw1');
    await lab.startKeepalived('gw1');
    await waitFor(
      async () =>
        (await lab!.keepalivedLog('gw1'))
          .split(/Starting VRRP child process/)
          .at(-1)!
          .includes('Script `chk` now returning 0') ||
        /\(VI_LAN\) Entering MASTER STATE/.test((await lab!.keepalivedLog('gw1')).split(/Starting VRRP child process/).at(-1)!),
      { what: 'the restarted keepalived to run the fast check', timeoutMs: 20_000 },
    );
    expect(await findings('gw1', 'script-runs-differently')).toEqual([]);
  });
});

describe('network-manager-removes-vip (catalogue 15)', () => {
  it('a systemd-networkd .network for the VRRP interface without KeepConfiguration: found, fixed with a drop-in, re-checked clean', async () => {
    lab = await createLab();
    await lab.writeEtc('gw1', 'systemd/network/10-lan.network', `[Match]\nName=eth0\n\n[Network]\nAddress=${ADDR.gw1.lan}/24\n`);
    const f = await findings('gw1', 'network-manager-removes-vip');
    expect(f).toHaveLength(1);
    // networkd does not run in the lab's namespace: a latent risk, so a warning
    expect(f[0]).toMatchObject({ severity: 'warning', subject: 'eth0', title: "systemd-networkd can drop keepalived's VIPs on eth0 (10-lan.network)" });
    const dropIn = '/etc/systemd/network/10-lan.network.d/90-hagw-doctor-keepalived.conf';
    expect(f[0]!.fix!.steps.map((s) => ('write' in s ? s.write.path : undefined))).toEqual([dropIn]);

    const fixed = await lab.doctor('gw1', ['fix', 'network-manager-removes-vip', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    // written inside the node's /etc (ip netns exec binds /etc/netns/NS/systemd), never the host's
    const inNode = lab.etcPath('gw1', 'systemd/network/10-lan.network.d/90-hagw-doctor-keepalived.conf');
    expect(readFileSync(inNode, 'utf8')).toMatch(/^\[Network\]\nKeepConfiguration=yes$/m);
    expect(existsSync(dropIn)).toBe(false);
    expect(await findings('gw1', 'network-manager-removes-vip')).toEqual([]);
    // nothing was reloaded: the VIPs are where they were
    await lab.waitForMaster('gw1');
  });
});

describe('conntrack-sync-missing (catalogue 25)', () => {
  it('a SNAT pair without conntrackd; with conntrackd committed by notify_master it is clean; a stuck conntrackd is found', async () => {
    lab = await createLab();
    // the lab node has its own (empty) /etc/conntrackd: the host's binary alone is no set-up, so info
    const none = await findings('gw1', 'conntrack-sync-missing');
    expect(none.map((x) => [x.severity, x.title])).toEqual([['info', 'a SNAT gateway pair without conntrackd: every connection breaks on failover']]);

    // conntrackd in FTFW mode over the WAN link, its socket and lock in the lab's run dir
    const peer = { gw1: ADDR.gw2.wan, gw2: ADDR.gw1.wan } as const;
    const self = { gw1: ADDR.gw1.wan, gw2: ADDR.gw2.wan } as const;
    for (const n of ['gw1', 'gw2'] as const) {
      const d = lab.nodeDir(n);
      await lab.writeEtc(
        n,
        'conntrackd/conntrackd.conf',
        `Sync {
    Mode FTFW {
        DisableExternalCache off
    }
    UDP {
        IPv4_address ${self[n]}
        IPv4_Destination_Address ${peer[n]}
        Port 3780
        Interface eth1
        Checksum on
    }
}
General {
    HashSize 8192
    HashLimit 65535
    Syslog off
    LogFile ${d}/conntrackd.log
    LockFile ${d}/conntrackd.lock
    UNIX {
        Path ${d}/conntrackd.ctl
    }
    Filter From Userspace {
        Protocol Accept {
            TCP
            UDP
            ICMP
        }
        Address Ignore {
            IPv4_address 127.0.0.1
        }
    }
}
`,
      );
      await lab.execOk(n, ['conntrackd', '-d', '-C', '/etc/conntrackd/conntrackd.conf']);
      await lab.waitFor(async () => (await lab!.exec(n, ['conntrackd', '-C', '/etc/conntrackd/conntrackd.conf', '-s'])).ok, {
        what: `conntrackd to answer on ${n}`,
      });
    }
    const notCommitted = await findings('gw1', 'conntrack-sync-missing');
    expect(notCommitted.map((x) => x.title)).toEqual(['conntrackd runs, but no notify script commits its cache on failover']);

    // notify_master commits the external cache (what primary-backup.sh primary does)
    const master = notifyScript('master', lab.notifyLogPath('gw1')).replace(
      'exit 0\n',
      'conntrackd -C /etc/conntrackd/conntrackd.conf -c || true\nconntrackd -C /etc/conntrackd/conntrackd.conf -f || true\nexit 0\n',
    );
    await lab.writeEtc('gw1', 'keepalived/scripts/notify_master.sh', master, 0o755);
    expect(await findings('gw1', 'conntrack-sync-missing')).toEqual([]);

    // a stopped (stuck) daemon does not answer `conntrackd -s`
    const pids = (await lab.runOk(['ip', 'netns', 'pids', lab.nodes.gw1])).stdout.split(/\s+/).filter(Boolean).map(Number);
    const ct = pids.filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'conntrackd';
      } catch {
        return false;
      }
    });
    expect(ct).toHaveLength(1);
    process.kill(ct[0]!, 'SIGSTOP');
    try {
      const stuck = await findings('gw1', 'conntrack-sync-missing');
      expect(stuck.map((x) => x.title)).toEqual(['conntrackd runs but does not answer (stuck)']);
    } finally {
      process.kill(ct[0]!, 'SIGCONT');
    }
  });
});
