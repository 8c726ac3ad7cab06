// Named ways to break the lab's pair, each a real change made with the real tools, each waiting
// until its effect is real before it returns. Defaults assume the healthy lab (gw1 MASTER, gw2 BACKUP).
import type { Lab } from './harness.js';
import { SNAT_RULES, WIDE_SNAT_RULE, intruderConf } from './keepalived-files.js';
import { ADDR, GW3_LINK, linkCommands, type LabNode } from './topology.js';

export type ScenarioName =
  | 'ip-forward-off'
  | 'vrid-out-of-range'
  | 'snat-catches-vrrp'
  | 'snat-catches-vrrp-mended'
  | 'snat-on-backup'
  | 'vrrp-dropped-on-backup'
  | 'stop-master'
  | 'third-node-same-vrid';

export const SCENARIOS: readonly ScenarioName[] = [
  'ip-forward-off',
  'vrid-out-of-range',
  'snat-catches-vrrp',
  'snat-catches-vrrp-mended',
  'snat-on-backup',
  'vrrp-dropped-on-backup',
  'stop-master',
  'third-node-same-vrid',
];

export interface ScenarioResult {
  name: ScenarioName;
  /** the node the change was made on */
  node: LabNode;
  /** lines from the real tools showing the effect (conntrack entry, keepalived -t output, tcpdump lines...) */
  evidence: string[];
  /** 'vrid-out-of-range': the keepalived.conf line that now holds the bad VRID */
  line?: number;
}

const DEFAULT_NODE: Record<ScenarioName, LabNode> = {
  'ip-forward-off': 'gw1',
  'vrid-out-of-range': 'gw1',
  'snat-catches-vrrp': 'gw1',
  'snat-catches-vrrp-mended': 'gw1',
  'snat-on-backup': 'gw2',
  'vrrp-dropped-on-backup': 'gw2',
  'stop-master': 'gw1',
  'third-node-same-vrid': 'gw3',
};

const peerOf = (node: LabNode): 'gw1' | 'gw2' => (node === 'gw1' ? 'gw2' : 'gw1');
const selfAddr = (node: LabNode) => (node === 'gw2' ? ADDR.gw2 : ADDR.gw1);

export async function applyScenario(lab: Lab, name: ScenarioName, node: LabNode = DEFAULT_NODE[name]): Promise<ScenarioResult> {
  switch (name) {
    case 'ip-forward-off': {
      // forwarding switched off by hand on the master: keepalived does not notice, clients lose the way out
      await lab.execOk(node, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
      const value = await lab.waitFor(
        async () => {
          const r = await lab.exec(node, ['cat', '/proc/sys/net/ipv4/ip_forward']);
          return r.stdout.trim() === '0' ? r.stdout.trim() : undefined;
        },
        { what: `ip_forward to read 0 on ${node}` },
      );
      return { name, node, evidence: [`net.ipv4.ip_forward = ${value}`] };
    }

    case 'vrid-out-of-range': {
      // the file is edited; the running keepalived keeps its old config (nobody reloaded yet)
      const conf = await lab.readEtc(node, 'keepalived/keepalived.conf');
      const lines = conf.split('\n');
      const i = lines.findIndex((l) => /^\s*virtual_router_id\s+\d+/.test(l));
      if (i < 0) throw new Error(`vrid-out-of-range: no virtual_router_id in ${node}'s keepalived.conf`);
      lines[i] = lines[i]!.replace(/virtual_router_id\s+\d+/, 'virtual_router_id 352');
      await lab.writeEtc(node, 'keepalived/keepalived.conf', lines.join('\n'));
      const r = await lab.exec(node, ['keepalived', '-t', '-f', '/etc/keepalived/keepalived.conf']);
      const out = `${r.stdout}\n${r.stderr}`;
      if (r.exitCode === 0 || !out.includes("'352'"))
        throw new Error(`vrid-out-of-range: keepalived -t did not reject VRID 352 (exit ${r.exitCode}): ${out.trim()}`);
      return { name, node, line: i + 1, evidence: [`keepalived -t exit ${r.exitCode}`, ...out.split('\n').filter((l) => l.includes('352'))] };
    }

    case 'snat-catches-vrrp': {
      const entries = await lab.conntrackVrrp(node);
      if (!(await lab.hasRule(node, 'nat', 'POSTROUTING', WIDE_SNAT_RULE))) {
        if (await lab.hasRule(node, 'raw', 'OUTPUT', ['-p', 'vrrp', '-j', 'CT', '--notrack'])) {
          throw new Error('snat-catches-vrrp: VRRP is NOTRACKed on this node (hardened lab), so NAT cannot touch the adverts');
        }
        await lab.execOk(node, ['iptables', '-w', '-t', 'nat', '-I', 'POSTROUTING', '1', ...WIDE_SNAT_RULE]);
      }
      // NAT is decided on a flow's first packet and the advert flow never expires: drop it so the
      // next advert starts a flow under the new rule, as when the rule was there before keepalived
      if (!entries.some((e) => e.nated)) await lab.exec(node, ['conntrack', '-D', '-p', '112']);
      const self = selfAddr(node);
      const nated = await lab.waitFor(async () => (await lab.conntrackVrrp(node)).find((e) => e.origSrc === self.lan && e.nated), {
        what: `a NATed VRRP conntrack entry from ${self.lan} on ${node}`,
      });
      const evidence = [nated.line];
      // the peer checks the unicast source (check_unicast_src): it now sees a stranger's adverts
      const peer = peerOf(node);
      const peerConf = await lab.readEtc(peer, 'keepalived/keepalived.conf').catch(() => '');
      if (peerConf.includes('check_unicast_src') && lab.keepalivedPid(peer)) {
        const needle = `unicast source address ${ADDR.wanVip} not a unicast peer`;
        const line = await lab.waitFor(async () => (await lab.keepalivedLog(peer)).split('\n').find((l) => l.includes(needle)), {
          what: `${peer} to log "${needle}"`,
        });
        evidence.push(line);
      }
      return { name, node, evidence };
    }

    case 'snat-catches-vrrp-mended': {
      // the seed: the rule is mended, but the stale conntrack binding keeps rewriting every advert
      if (!(await lab.conntrackVrrp(node)).some((e) => e.nated)) await applyScenario(lab, 'snat-catches-vrrp', node);
      while (await lab.hasRule(node, 'nat', 'POSTROUTING', WIDE_SNAT_RULE)) {
        await lab.execOk(node, ['iptables', '-w', '-t', 'nat', '-D', 'POSTROUTING', ...WIDE_SNAT_RULE]);
      }
      const peer = peerOf(node);
      // two adverts after the mend still leave with the VIP as source: the rewrite outlives the rule
      const seen = await lab.capture(peer, 'eth0', ['ip', 'proto', '112', 'and', 'src', 'host', ADDR.wanVip], async () => undefined, {
        count: 2,
        timeoutMs: 10_000,
      });
      const entry = (await lab.conntrackVrrp(node)).find((e) => e.nated);
      if (!entry) throw new Error(`snat-catches-vrrp-mended: the NATed VRRP entry on ${node} is gone`);
      return { name, node, evidence: [entry.line, ...seen] };
    }

    case 'snat-on-backup': {
      // what a missing notify_backup leaves behind: the master's SNAT rules on the backup
      for (const rule of SNAT_RULES) {
        if (!(await lab.hasRule(node, 'nat', 'POSTROUTING', rule))) await lab.execOk(node, ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', ...rule]);
      }
      const r = await lab.execOk(node, ['iptables-save', '-t', 'nat']);
      return { name, node, evidence: r.stdout.split('\n').filter((l) => l.startsWith('-A POSTROUTING')) };
    }

    case 'vrrp-dropped-on-backup': {
      // the backup's firewall drops the adverts (#821): it believes the master is dead
      await lab.execOk(node, ['iptables', '-w', '-I', 'INPUT', '-p', 'vrrp', '-j', 'DROP']);
      const other = peerOf(node);
      await lab.waitForMaster(node);
      await lab.waitForMaster(other);
      return { name, node, evidence: [`${node} and ${other} both hold ${ADDR.lanVip} and ${ADDR.wanVip}`] };
    }

    case 'stop-master': {
      await lab.stopKeepalived(node);
      const other = peerOf(node);
      await lab.waitForMaster(other);
      await lab.waitForNoVip(node);
      return { name, node, evidence: [`keepalived stopped on ${node}; ${other} holds both VIPs`] };
    }

    case 'third-node-same-vrid': {
      // another router on the LAN reuses VI_LAN's VRID for another VIP, unicasting to both gateways
      if (node !== 'gw3') throw new Error('third-node-same-vrid always adds gw3');
      await lab.addNode('gw3');
      for (const argv of linkCommands(GW3_LINK, (n) => lab.nodes[n])) await lab.runOk(argv);
      await lab.writeEtc('gw3', 'keepalived/keepalived.conf', intruderConf());
      const seen = await lab.capture('gw1', 'eth0', ['ip', 'proto', '112', 'and', 'src', 'host', ADDR.gw3.lan], () => lab.startKeepalived('gw3'), {
        count: 1,
        timeoutMs: 15_000,
      });
      await lab.waitFor(() => lab.holdsVip('gw3', ADDR.gw3Vip), { what: `gw3 to hold ${ADDR.gw3Vip}` });
      await lab.waitForMaster('gw1');
      return { name, node, evidence: seen };
    }
  }
}
