// Fix plans for the netfilter findings: argv steps, each with its undo. Static rules (accept VRRP,
// NOTRACK) may go to the host's rule store; master-only SNAT rules never do (notify scripts own them).
import type { FixPlan, FixStep, ProbeRecord } from '../types.js';
import type { Rule, Table } from './rules.js';
import type { IptRule } from './iptables-save.js';
import type { Firewall, HookWalk } from './firewall.js';
import { dropsAt, isIptables, isNftNative, notrackAt } from './firewall.js';
import type { RuleRef } from './evaluate.js';
import type { ConntrackEntry } from './conntrack.js';
import { nftConfInsert, ufwBeforeInsert, NFT_CONF, UFW_BEFORE, UFW_BEFORE6, type FirewallManagers } from './managers.js';
import { advertIn, advertOut, isGroup, AH_PROTO, type VrrpPath } from './vrrp-paths.js';
import { iptablesPersistStep, persistenceTargets } from '../change/persistence.js';
import { PROBE_OS_RELEASE, fileProbeId } from '../probes/ids.js';

/** The iptables binary that edits a table: plain `iptables` when the table is on the default backend
 *  (what `iptables-save` shows, and what the change engine backs up), else the backend's own name. */
export function iptablesBinary(fw: Firewall, table: Table): string {
  if (!fw.defaultBackend || fw.defaultBackend === table.backend) return 'iptables';
  return table.backend === 'legacy' ? 'iptables-legacy' : 'iptables-nft';
}

/** The binary for a backend when no table of it exists yet. */
export function binaryForNewRules(fw: Firewall): string {
  const nftRules = Object.values(fw.nfTables?.tables ?? {}).some((t) => Object.values(t.chains).some((c) => c.rules.length));
  const legacyRules = Object.values(fw.legacy?.tables ?? {}).some((t) => Object.values(t.chains).some((c) => c.rules.length));
  if (legacyRules && !nftRules && fw.nfTables) return 'iptables-legacy';
  return 'iptables';
}

/** Whether the host runs nftables only (native tables, no iptables rules): fixes then speak nft. */
export function nftOnly(fw: Firewall): boolean {
  const iptRules = fw.tables.filter(isIptables).some((t) => Object.values(t.chains).some((c) => c.rules.length || (c.policy && c.policy !== 'ACCEPT')));
  const nativeRules = fw.tables.some((t) => !isIptables(t) && t.name !== 'keepalived' && Object.values(t.chains).some((c) => c.rules.length));
  return !iptRules && nativeRules;
}

export const ruleArgs = (r: IptRule) => r.spec;

export interface StaticRule {
  table: string;
  chain: string;
  /** the rule spec after "-A CHAIN" */
  spec: string[];
  /** insert at this position (1-based); append when undefined. Only 1 (the top) is used as a
   *  position when applied: any other insert names the rule it goes before (`before`) */
  position?: number;
  /** insert just before this rule (its spec), found by content when the change is applied */
  before?: string[];
}

/** Add a static iptables rule now, by content (the change engine checks -C first and resolves
 *  `before` to a position at apply time); undone by -D of the same rule. */
export function addRuleStep(bin: string, r: StaticRule, why: string): FixStep {
  const add = r.position !== undefined ? ['-I', r.chain, String(r.before ? r.position : 1)] : ['-A', r.chain];
  return {
    argv: [bin, '-w', '-t', r.table, ...add, ...r.spec],
    undo: [[bin, '-w', '-t', r.table, '-D', r.chain, ...r.spec]],
    rule: {
      bin,
      table: r.table,
      chain: r.chain,
      op: r.position !== undefined || r.before ? 'insert' : 'append',
      spec: [...r.spec],
      ...(r.before ? { before: [...r.before] } : {}),
    },
    why,
  };
}

export const quoteSpec = (spec: string[]) => spec.map((s) => (/[\s"]/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s)).join(' ');

/** Persistence for static rules: into the rule store that exists on this host, else say where. */
export function persistStatic(
  records: Readonly<Record<string, ProbeRecord>>,
  rules: StaticRule[],
  nft: boolean,
  family: 'ip' | 'ip6' = 'ip',
): { steps: FixStep[]; files: string[]; persistence: FixPlan['persistence'] } {
  const lines = rules.map((r) => `-A ${r.chain} ${quoteSpec(r.spec)}`);
  if (nft) {
    const conf = records['file:/etc/nftables.conf']?.status === 'ok';
    return {
      steps: [],
      files: [],
      persistence: {
        persistent: false,
        how: conf
          ? 'not persisted: add the same statements to /etc/nftables.conf (loaded at boot by nftables.service)'
          : 'not persisted: add the same statements to the nftables configuration this host loads at boot',
      },
    };
  }
  const base = persistenceTargets(records[PROBE_OS_RELEASE]?.status === 'ok' ? records[PROBE_OS_RELEASE]!.stdout : undefined);
  // IPv6 rules live beside the IPv4 store: rules.v6 (Debian), ip6tables (RHEL)
  const targets =
    family === 'ip6' && base.iptablesStore
      ? {
          ...base,
          iptablesStore: base.iptablesStore.replace(/rules\.v4$/, 'rules.v6').replace(/\/iptables$/, '/ip6tables'),
          iptablesService: base.iptablesService === 'iptables' ? 'ip6tables' : base.iptablesService,
        }
      : base;
  const store = targets.iptablesStore;
  const rec = store ? records[fileProbeId(store)] : undefined;
  const netfilterPersistent =
    records['stat:/usr/sbin/netfilter-persistent']?.status === 'ok' && /"exists":true/.test(records['stat:/usr/sbin/netfilter-persistent'].stdout);
  // only an existing store is edited: a store nobody loads at boot would be a false promise
  if (store && rec?.status === 'ok') {
    const steps: FixStep[] = [];
    let content = rec.stdout;
    for (const table of [...new Set(rules.map((r) => r.table))]) {
      const r = iptablesPersistStep(
        targets,
        content,
        table,
        lines.filter((_, i) => rules[i]!.table === table),
      );
      if (r.step && 'write' in r.step) {
        content = r.step.write.content;
      }
    }
    if (content !== rec.stdout) steps.push({ write: { path: store, content, mode: 0o600 }, why: `loaded at boot by ${targets.iptablesService}` });
    return {
      steps,
      files: steps.length ? [store] : [],
      persistence: { persistent: true, how: `added to ${store} (loaded at boot by ${targets.iptablesService})` },
    };
  }
  const where = store
    ? `${store} does not exist${netfilterPersistent ? '' : ` (install ${targets.family === 'debian' ? 'iptables-persistent' : 'iptables-services'})`}`
    : 'no known rule store on this distribution';
  return {
    steps: [],
    files: [],
    persistence: {
      persistent: false,
      how: `not persisted: ${where}; add these static rules to the firewall configuration loaded at boot: ${lines.join('; ')}`,
    },
  };
}

// ------------------------------------------------------------------ the plans of the netfilter findings

type Records = Readonly<Record<string, ProbeRecord>>;

/** The NOTRACK rules the adverts still need (nft: the doctor's own table; iptables: raw at the top),
 *  the accepts for untracked adverts where the filter matches on state, then the stale NATed
 *  conntrack entries deleted (vrrp-conntrack-nat). */
export function conntrackNatPlan(fw: Firewall, paths: VrrpPath[], records: Records, entries: ConntrackEntry[]): FixPlan {
  const nft = nftOnly(fw);
  const needPre = paths.some((p) => p.peers.some((peer) => !notrackAt(fw, 'prerouting', advertIn(p, peer))));
  const needOut = paths.some((p) => p.peers.some((peer) => !notrackAt(fw, 'output', advertOut(p, peer))));
  const statics = nft ? [] : notrackStatics(fw, paths, needPre, needOut);
  const bin = binaryForNewRules(fw);
  const steps: FixStep[] = nft
    ? nftNotrackSteps(needPre, needOut)
    : statics.map((s) => addRuleStep(bin, s, s.table === 'raw' ? `adverts are not tracked in ${s.chain}` : `accept untracked adverts in ${s.chain}`));
  for (const e of entries) {
    steps.push({
      argv: ['conntrack', '-D', '-p', '112', '-s', e.original.src, '-d', e.original.dst],
      undo: [],
      optional: true,
      why: 'delete the stale NATed entry (it may already be gone); conntrack entries cannot be restored',
    });
  }
  const persist = persistStatic(records, statics, nft);
  steps.push(...persist.steps);
  const touchesIpt = new Set(statics.map((s) => s.table));
  return {
    summary:
      'NOTRACK VRRP in the raw table (PREROUTING and OUTPUT), accept untracked adverts where the filter matches on state, and delete the stale NATed VRRP conntrack entries',
    risk: statics.some((s) => s.table === 'filter') ? 'disruptive' : 'safe',
    steps,
    touches: {
      ...(touchesIpt.size ? { iptables: [...touchesIpt] } : {}),
      ...(nft ? { nft: true } : {}),
      conntrack: true,
      ...(persist.files.length ? { files: persist.files } : {}),
    },
    persistence: persist.persistence,
    verifies: ['vrrp-conntrack-nat'],
  };
}

/** The NOTRACK part alone (vrrp-notrack-missing); undefined when there is nothing to add. */
export function notrackMissingPlan(fw: Firewall, paths: VrrpPath[], records: Records): FixPlan | undefined {
  const plan = conntrackNatPlan(fw, paths, records, []);
  if (!plan.steps.length) return undefined;
  return {
    ...plan,
    summary: 'NOTRACK VRRP in the raw table (PREROUTING and OUTPUT), accepting untracked adverts where the filter matches on state',
    touches: { ...plan.touches, conntrack: false },
    verifies: ['vrrp-notrack-missing'],
  };
}

/** nftables only: the doctor's own inet table with raw-priority chains that NOTRACK the adverts. */
function nftNotrackSteps(needPre: boolean, needOut: boolean): FixStep[] {
  if (!needPre && !needOut) return [];
  const hook = (name: string, at: string, why: string, ruleWhy: string): FixStep[] => [
    { argv: ['nft', 'add', 'chain', 'inet', 'hagw_doctor', name, `{ type filter hook ${at} priority raw ; policy accept ; }`], why },
    { argv: ['nft', 'add', 'rule', 'inet', 'hagw_doctor', name, 'ip', 'protocol', 'vrrp', 'notrack'], why: ruleWhy },
  ];
  return [
    {
      argv: ['nft', 'add', 'table', 'inet', 'hagw_doctor'],
      undo: [['nft', 'delete', 'table', 'inet', 'hagw_doctor']],
      why: "the doctor's own table for its NOTRACK rules",
    },
    ...(needPre ? hook('raw_prerouting', 'prerouting', 'a raw-priority chain at prerouting', 'incoming adverts are not tracked') : []),
    ...(needOut ? hook('raw_output', 'output', 'a raw-priority chain at output', 'outgoing adverts are not tracked, so NAT never applies to them') : []),
  ];
}

const ACCEPT_UNTRACKED = ['-p', 'vrrp', '-m', 'conntrack', '--ctstate', 'UNTRACKED', '-j', 'ACCEPT'];

/** iptables: raw NOTRACK at the top, and where the filter table matches on state (drops an untracked
 *  advert it would pass as ESTABLISHED), an explicit accept of untracked adverts. */
function notrackStatics(fw: Firewall, paths: VrrpPath[], needPre: boolean, needOut: boolean): StaticRule[] {
  const notrack = ['-p', 'vrrp', '-j', 'CT', '--notrack'];
  const statics: StaticRule[] = [];
  if (needPre) statics.push({ table: 'raw', chain: 'PREROUTING', spec: notrack, position: 1 });
  if (needOut) statics.push({ table: 'raw', chain: 'OUTPUT', spec: notrack, position: 1 });
  const needsAccept = (hook: 'input' | 'output', untracked: Parameters<typeof dropsAt>[2], established: Parameters<typeof dropsAt>[2]) =>
    dropsAt(fw, [hook], untracked).some((w) => isIptables(w.table)) && !dropsAt(fw, [hook], established).length;
  for (const p of paths) {
    for (const peer of p.peers) {
      if (!statics.some((s) => s.chain === 'INPUT') && needsAccept('input', advertIn(p, peer, 'UNTRACKED'), advertIn(p, peer, 'ESTABLISHED'))) {
        statics.push({ table: 'filter', chain: 'INPUT', spec: ACCEPT_UNTRACKED, position: 1 });
      }
      if (
        !statics.some((s) => s.chain === 'OUTPUT' && s.table === 'filter') &&
        needsAccept('output', advertOut(p, peer, 'UNTRACKED'), advertOut(p, peer, 'ESTABLISHED'))
      ) {
        statics.push({ table: 'filter', chain: 'OUTPUT', spec: ACCEPT_UNTRACKED, position: 1 });
      }
    }
  }
  return statics;
}

/** Replace a SNAT rule that catches the adverts with the same rule plus `! -p vrrp` (snat-matches-vrrp);
 *  undefined for a native nft rule. scripts: the notify_master scripts, named in the persistence note. */
export function snatVrrpPlan(fw: Firewall, ref: RuleRef, scripts: string): FixPlan | undefined {
  if (!isIptables(ref.table)) return undefined;
  const rule = ref.rule as IptRule;
  const bin = iptablesBinary(fw, ref.table);
  const spec = [...rule.spec];
  // iptables-save order: built-in matches (-s -d -i -o -p), then -m modules, then -j
  const at = spec.findIndex((t) => t === '-m' || t === '-j' || t === '-g' || t === '--match' || t === '--jump');
  const i = at < 0 ? spec.length : at;
  const fixed = [...spec.slice(0, i), '!', '-p', 'vrrp', ...spec.slice(i)];
  return {
    summary: `replace \`-A ${rule.chain} ${spec.join(' ')}\` (rule ${rule.position} when checked) in the nat table with the same rule plus \`! -p vrrp\``,
    risk: 'safe',
    steps: [
      {
        // shown as the intent; the engine finds the rule by content when it applies (never rule N)
        argv: [bin, '-w', '-t', 'nat', '-R', rule.chain, String(rule.position), ...fixed],
        undo: [[bin, '-w', '-t', 'nat', '-R', rule.chain, String(rule.position), ...spec]],
        rule: { bin, table: 'nat', chain: rule.chain, op: 'replace', spec, with: fixed },
        why: 'the adverts no longer match; everything else it matched still does',
      },
    ],
    touches: { iptables: ['nat'] },
    persistence: {
      persistent: false,
      how: `not persisted: a SNAT rule is master-only and belongs in the notify_master script${scripts ? ` (${scripts})` : ''}; add \`! -p vrrp\` to the rule there, never to a static rule store`,
    },
    verifies: ['snat-matches-vrrp'],
  };
}

/** A SNAT rule and the table it stands in. */
export interface SnatRuleRef {
  table: Table;
  rule: Rule;
}

/** Remove the master-only SNAT rules from a standby node (snat-on-backup); undefined when none is an
 *  iptables rule. scripts: the notify_backup/fault/stop scripts, named in the persistence note. */
export function snatOnBackupPlan(fw: Firewall, rules: SnatRuleRef[], scripts: string): FixPlan | undefined {
  const ipt = rules.filter((s) => isIptables(s.table));
  if (!ipt.length) return undefined;
  // delete by spec, last first, so the undo (-I at the old position, in reverse) rebuilds the order
  const steps: FixStep[] = [...ipt]
    .sort((a, b) => b.rule.position - a.rule.position)
    .map((s) => {
      const rule = s.rule as IptRule;
      const bin = iptablesBinary(fw, s.table);
      return {
        argv: [bin, '-w', '-t', 'nat', '-D', rule.chain, ...rule.spec],
        undo: [[bin, '-w', '-t', 'nat', '-I', rule.chain, String(rule.position), ...rule.spec]],
        // by content; the undo puts it back before the rule that followed it when it was deleted
        rule: { bin, table: 'nat', chain: rule.chain, op: 'delete', spec: [...rule.spec] },
        why: 'a master-only rule on a standby node',
      } satisfies FixStep;
    });
  return {
    summary: `remove the ${ipt.length} master-only SNAT rule${ipt.length === 1 ? '' : 's'} from this standby node`,
    risk: 'safe',
    steps,
    touches: { iptables: ['nat'] },
    persistence: {
      persistent: false,
      how: `not persisted by the doctor: the notify scripts decide. Make notify_backup/notify_fault/notify_stop remove exactly what notify_master adds${scripts ? ` (${scripts})` : ''}, and keep SNAT rules out of the static rule store`,
    },
    verifies: ['snat-on-backup'],
  };
}

/** The text a file will have once the plans built so far in this analysis are applied: several
 *  findings may each add a rule to one file, each plan building on the previous one's text. */
export type PendingText = (path: string, original: string) => { text: string };

export interface AdvertAcceptInput {
  fw: Firewall;
  records: Records;
  managers: FirewallManagers;
  pending: PendingText;
  /** the advert path and the peer whose adverts are dropped */
  path: VrrpPath;
  peer: string;
  /** where they are dropped */
  walk: HookWalk;
}

/** Accept the peer's adverts above what drops them (vrrp-input-blocked), through whatever owns the
 *  ruleset: firewalld, ufw, a native nft ruleset (and /etc/nftables.conf), or iptables (and the
 *  static rule store); undefined when the drop is somewhere no accept can be placed. */
export function advertAcceptPlan(a: AdvertAcceptInput): FixPlan | undefined {
  const protoName = a.path.proto === AH_PROTO ? 'ah' : 'vrrp';
  // firewalld owns the ruleset: a rule added beside it is flushed by its next reload
  if (a.managers.firewalld) return firewalldPlan(a.path, a.peer, protoName, a.managers.firewalld.evidence);
  const viaUfw = a.managers.ufw && isIptables(a.walk.table) ? ufwPlan(a.pending, a.path, a.peer, protoName, a.managers.ufw) : undefined;
  if (viaUfw) return viaUfw;
  if (isNftNative(a.walk.table)) return nftAcceptPlan(a, protoName);
  if (!isIptables(a.walk.table) || (a.walk.table.name !== 'filter' && a.walk.table.name !== 'mangle')) return undefined;
  return iptablesAcceptPlan(a, protoName);
}

function nftAcceptPlan({ records, managers, pending, path: p, peer, walk: w }: AdvertAcceptInput, protoName: string): FixPlan {
  const multicast = isGroup(peer);
  const v6 = p.family === 'ip6';
  const chain = w.hit?.via[0]?.chain ?? w.chain;
  const l3 = v6 ? 'ip6' : 'ip';
  const ruleWords = [l3, v6 ? 'nexthdr' : 'protocol', protoName, l3, multicast ? 'daddr' : 'saddr', peer, 'accept'];
  // /etc/nftables.conf is what nftables.service (re)loads: the same rule goes there, at the same place
  const conf = managers.nftablesConf;
  // the merged change (fix CODE applies them all) ends with every rule in the file
  const file = conf ? pending(NFT_CONF, conf.text) : undefined;
  const next = file
    ? nftConfInsert(file.text, w.table.family, w.table.name, chain, `${ruleWords.join(' ')}    # hagw-doctor: VRRP adverts from the peer`)
    : undefined;
  if (file && next) file.text = next;
  const persistence: FixPlan['persistence'] = next
    ? {
        persistent: true,
        how: `added to ${NFT_CONF} at the top of table ${w.table.family} ${w.table.name} chain ${chain}${conf!.enabled === false ? ' (nftables.service is disabled: nothing loads the file at boot until it is enabled)' : ' (loaded at boot by nftables.service)'}`,
      }
    : conf
      ? {
          persistent: false,
          how: `not persisted: ${NFT_CONF} does not declare table ${w.table.family} ${w.table.name} with a chain ${chain} block the doctor can place the rule in (another file, an include, or \`add rule\` syntax); add \`${ruleWords.join(' ')}\` at the top of that chain where the ruleset is loaded from`,
        }
      : persistStatic(records, [], true).persistence;
  return {
    summary: `insert an accept for ${protoName.toUpperCase()} ${multicast ? `to ${peer}` : `from ${peer}`} at the top of nft chain ${w.table.family} ${w.table.name} ${chain}${next ? `, now and in ${NFT_CONF}` : ''}`,
    risk: 'disruptive',
    steps: [
      { argv: ['nft', 'insert', 'rule', w.table.family, w.table.name, chain, ...ruleWords], why: 'adverts are accepted before anything drops them' },
      ...(next
        ? [{ write: { path: NFT_CONF, content: next, mode: 0o755 }, why: 'nftables.service loads this file at boot and on reload: the accept survives both' }]
        : []),
    ],
    touches: { nft: true, ...(next ? { files: [NFT_CONF] } : {}) },
    persistence,
    verifies: ['vrrp-input-blocked'],
  };
}

function iptablesAcceptPlan({ fw, records, path: p, peer, walk: w }: AdvertAcceptInput, protoName: string): FixPlan {
  const match = isGroup(peer) ? ['-d', peer] : ['-s', peer];
  const v6 = p.family === 'ip6';
  // above the dropping rule: at its position in the base chain (the jump that led to it, if nested)
  const top = w.hit ? (w.hit.via[0] ?? w.hit.rule) : undefined;
  const chain = w.chain;
  const s: StaticRule = {
    table: w.table.name,
    chain,
    spec: ['-p', protoName, ...match, '-j', 'ACCEPT'],
    position: top ? top.position : 1,
    // placed by content when applied: just above the rule that drops (or jumps to what drops)
    ...(top && top.position > 1 && (top as IptRule).spec ? { before: [...(top as IptRule).spec] } : {}),
  };
  const { position: _p, ...stored } = s;
  const persist = persistStatic(records, [stored], false, v6 ? 'ip6' : 'ip');
  const bin = iptablesBinary(fw, w.table);
  return {
    summary: `insert \`-A ${chain} -p ${protoName} ${match.join(' ')} -j ACCEPT\` ${s.before ? `just above \`-A ${chain} ${s.before.join(' ')}\`` : 'at the top'} of ${v6 ? 'ip6tables ' : ''}${w.table.name} ${chain}, above what drops the adverts`,
    risk: 'disruptive',
    steps: [
      addRuleStep(v6 ? bin.replace(/^iptables/, 'ip6tables') : bin, s, 'adverts from the peer are accepted before the rule that drops them'),
      ...persist.steps,
    ],
    touches: { iptables: [w.table.name], ...(persist.files.length ? { files: persist.files } : {}) },
    persistence: persist.persistence,
    verifies: ['vrrp-input-blocked'],
  };
}

/** firewalld: a rich rule, at runtime and --permanent (so neither a reload nor a reboot loses it). */
function firewalldPlan(p: VrrpPath, peer: string, protoName: string, evidence: string): FixPlan {
  const fam = p.family === 'ip6' ? 'ipv6' : 'ipv4';
  const where = isGroup(peer) ? `destination address="${peer}"` : `source address="${peer}"`;
  const rich = `rule family="${fam}" ${where} protocol value="${protoName}" accept`;
  return {
    summary: `accept ${protoName.toUpperCase()} ${isGroup(peer) ? `to ${peer}` : `from ${peer}`} through firewalld (${evidence}): a rich rule, now and permanently`,
    risk: 'disruptive',
    steps: [
      {
        argv: ['firewall-cmd', `--add-rich-rule=${rich}`],
        undo: [['firewall-cmd', `--remove-rich-rule=${rich}`]],
        why: 'the running firewall accepts the adverts',
      },
      {
        argv: ['firewall-cmd', '--permanent', `--add-rich-rule=${rich}`],
        undo: [['firewall-cmd', '--permanent', `--remove-rich-rule=${rich}`]],
        why: 'firewalld keeps it across reloads and reboots',
      },
    ],
    touches: {},
    persistence: { persistent: true, how: 'firewalld --permanent configuration (the default zone)' },
    verifies: ['vrrp-input-blocked'],
  };
}

/** ufw: the accept goes into before.rules (ufw rebuilds its chains from it), applied with `ufw reload`. */
function ufwPlan(pending: PendingText, p: VrrpPath, peer: string, protoName: string, ufw: NonNullable<FirewallManagers['ufw']>): FixPlan | undefined {
  const v6 = p.family === 'ip6';
  const file = v6 ? UFW_BEFORE6 : UFW_BEFORE;
  const text = v6 ? ufw.beforeRules6 : ufw.beforeRules;
  const match = isGroup(peer) ? `-d ${peer}` : `-s ${peer}`;
  const line = `-A ufw${v6 ? '6' : ''}-before-input -p ${protoName} ${match} -j ACCEPT`;
  if (text === undefined) return undefined;
  const current = pending(file, text);
  const next = ufwBeforeInsert(current.text, line);
  if (next === undefined) return undefined;
  current.text = next;
  return {
    summary: `accept ${protoName.toUpperCase()} ${isGroup(peer) ? `to ${peer}` : `from ${peer}`} through ufw: \`${line}\` in ${file}, then \`ufw reload\``,
    risk: 'disruptive',
    steps: [
      // first, so an undo (last-first, after the file is restored) ends with ufw reloading the restored file
      { argv: ['ufw', 'status'], undo: [['ufw', 'reload']], why: 'ufw answers; on undo it reloads the restored rules' },
      { write: { path: file, content: next, mode: 0o640 }, why: 'ufw rebuilds its chains from this file on every reload and boot' },
      { argv: ['ufw', 'reload'], undo: [], why: 'ufw applies the new rule' },
    ],
    touches: { files: [file], iptables: ['filter'] },
    persistence: { persistent: true, how: `${file} (ufw loads it at boot and on every reload)` },
    verifies: ['vrrp-input-blocked'],
  };
}

/**
 * Plans that edit the same file (nftables.conf, ufw before.rules) become one: every step once, in
 * order, and one write per file holding every plan's edit (the engine refuses a second write to a
 * file the first one changed). `fix CODE` merges identical plans into one change.
 */
export function sharedFilePlan(plans: FixPlan[]): FixPlan {
  const steps: FixStep[] = [];
  const seen = new Set<string>();
  const writeAt = new Map<string, number>();
  for (const st of plans.flatMap((p) => p.steps)) {
    if ('write' in st) {
      const at = writeAt.get(st.write.path);
      // the later plans built on the earlier ones' text: the last write holds every edit
      if (at !== undefined) steps[at] = st;
      else {
        writeAt.set(st.write.path, steps.length);
        steps.push(st);
      }
      continue;
    }
    const key = JSON.stringify(st);
    if (seen.has(key)) continue;
    seen.add(key);
    steps.push(st);
  }
  const union = (xs: Array<string[] | undefined>) => [...new Set(xs.flatMap((x) => x ?? []))];
  const iptables = union(plans.map((p) => p.touches.iptables));
  const files = union(plans.map((p) => p.touches.files));
  return {
    summary: [...new Set(plans.map((p) => p.summary))].join('; '),
    risk: plans.some((p) => p.risk === 'disruptive') ? 'disruptive' : 'safe',
    steps,
    touches: {
      ...(iptables.length ? { iptables } : {}),
      ...(plans.some((p) => p.touches.nft) ? { nft: true } : {}),
      ...(files.length ? { files } : {}),
    },
    persistence: { persistent: plans.every((p) => p.persistence.persistent), how: [...new Set(plans.map((p) => p.persistence.how))].join('; ') },
    verifies: [...new Set(plans.flatMap((p) => p.verifies))],
  };
}
