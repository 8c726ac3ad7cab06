// Every ruleset of the host in one place: iptables (nf_tables backend), iptables-legacy, and
// native nft tables, read from the probe records; and the questions the checks ask of them.
import type { ProbeRecord } from '../types.js';
import type { CheckContext } from '../context.js';
import type { Backend, Chain, Table } from './rules.js';
import { readIptablesSave, type IptablesDump, type IptTable } from './iptables-save.js';
import { parseNftJson, type NftRuleset, type NftTable } from './nft.js';
import { packetFamily, walk, verdictOf, type Packet, type WalkResult } from './evaluate.js';

import { PROBE_IP6T_LEGACY, PROBE_IP6T_NFT, PROBE_IP6T_SAVE, PROBE_IPT_LEGACY, PROBE_IPT_NFT, PROBE_IPT_SAVE, PROBE_NFT, type ProbeId } from '../probes/ids.js';
export { PROBE_IP6T_LEGACY, PROBE_IP6T_NFT, PROBE_IP6T_SAVE, PROBE_IPT_LEGACY, PROBE_IPT_NFT, PROBE_IPT_SAVE, PROBE_NFT };

/** The host's rulesets for this analysis, parsed once however many checks ask. */
export function firewall(ctx: CheckContext): Firewall {
  return ctx.memo('netfilter:firewall', () => firewallFromRecords(ctx.snapshot.probes));
}

export interface Firewall {
  /** iptables tables (either backend) and native nft tables, everything the kernel runs */
  tables: Table[];
  legacy?: IptablesDump;
  nfTables?: IptablesDump;
  /** the IPv6 rules (ip6tables, either backend); their tables are in `tables` with family ip6 */
  legacy6?: IptablesDump;
  nfTables6?: IptablesDump;
  nft?: NftRuleset;
  /** rulesets that could not be read, with the reason (not root, not installed...) */
  unavailable: Array<{ probe: ProbeId; reason: string }>;
  /** the probes the tables came from */
  read: string[];
  /** the backend plain `iptables` uses (from the iptables-save header) */
  defaultBackend?: Backend;
}

const IPT_TABLES = new Set(['filter', 'nat', 'raw', 'mangle', 'security']);
const BUILTIN = /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/;

function usable(r: ProbeRecord | undefined): r is ProbeRecord {
  return r?.status === 'ok' && (r.exitCode === 0 || r.exitCode === undefined);
}

function why(id: ProbeId, r: ProbeRecord | undefined): { probe: ProbeId; reason: string } {
  if (!r) return { probe: id, reason: 'not collected' };
  if (r.status !== 'ok') return { probe: id, reason: r.reason ?? r.status };
  return { probe: id, reason: `exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}` };
}

export function firewallFromRecords(records: Readonly<Record<string, ProbeRecord>>): Firewall {
  const fw: Firewall = { tables: [], unavailable: [], read: [] };
  const legacy = records[PROBE_IPT_LEGACY];
  const nft = records[PROBE_IPT_NFT];
  const plain = records[PROBE_IPT_SAVE];
  if (usable(legacy)) {
    fw.legacy = readIptablesSave(legacy.stdout, PROBE_IPT_LEGACY);
    fw.legacy.backend = 'legacy';
    for (const t of Object.values(fw.legacy.tables)) t.backend = 'legacy';
    fw.read.push(PROBE_IPT_LEGACY);
  }
  if (usable(nft)) {
    fw.nfTables = readIptablesSave(nft.stdout, PROBE_IPT_NFT);
    fw.nfTables.backend = 'nf_tables';
    for (const t of Object.values(fw.nfTables.tables)) t.backend = 'nf_tables';
    fw.read.push(PROBE_IPT_NFT);
  }
  // hosts with iptables before 1.8 (or without the -legacy/-nft names) have only iptables-save
  const plainDump = usable(plain) ? readIptablesSave(plain.stdout, PROBE_IPT_SAVE) : undefined;
  if (plainDump && plainDump.backend !== 'unknown') fw.defaultBackend = plainDump.backend;
  if (plainDump && (!fw.legacy || !fw.nfTables)) {
    const dump = plainDump;
    if (dump.backend === 'nf_tables' && !fw.nfTables) {
      fw.nfTables = dump;
      fw.read.push(PROBE_IPT_SAVE);
    } else if (dump.backend !== 'nf_tables' && !fw.legacy) {
      fw.legacy = dump;
      fw.read.push(PROBE_IPT_SAVE);
    }
  }
  if (!fw.legacy && !fw.nfTables) fw.unavailable.push(why(PROBE_IPT_SAVE, plain));
  const ruleset = records[PROBE_NFT];
  if (usable(ruleset)) {
    fw.nft = parseNftJson(ruleset.stdout, PROBE_NFT);
    fw.read.push(PROBE_NFT);
  } else fw.unavailable.push(why(PROBE_NFT, ruleset));

  readIp6tables(fw, records);

  for (const t of Object.values(fw.nfTables?.tables ?? {})) fw.tables.push(t);
  for (const t of Object.values(fw.legacy?.tables ?? {})) fw.tables.push(t);
  for (const t of Object.values(fw.nfTables6?.tables ?? {})) fw.tables.push(t);
  for (const t of Object.values(fw.legacy6?.tables ?? {})) fw.tables.push(t);
  for (const t of fw.nft?.tables ?? []) if (!managedByIptables(t, fw)) fw.tables.push(t);
  return fw;
}

/** ip6tables dumps (either backend): the same reading as IPv4, tables marked family ip6. A host
 *  without ip6tables simply has no IPv6 iptables rules: that is not an unreadable ruleset. */
function readIp6tables(fw: Firewall, records: Readonly<Record<string, ProbeRecord>>): void {
  const mark = (d: IptablesDump, backend: Backend) => {
    d.backend = backend;
    for (const t of Object.values(d.tables)) {
      t.family = 'ip6';
      t.backend = backend;
    }
    return d;
  };
  const legacy = records[PROBE_IP6T_LEGACY];
  const nft = records[PROBE_IP6T_NFT];
  const plain = records[PROBE_IP6T_SAVE];
  if (usable(legacy)) {
    fw.legacy6 = mark(readIptablesSave(legacy.stdout, PROBE_IP6T_LEGACY), 'legacy');
    fw.read.push(PROBE_IP6T_LEGACY);
  }
  if (usable(nft)) {
    fw.nfTables6 = mark(readIptablesSave(nft.stdout, PROBE_IP6T_NFT), 'nf_tables');
    fw.read.push(PROBE_IP6T_NFT);
  }
  const plainDump = usable(plain) ? readIptablesSave(plain.stdout, PROBE_IP6T_SAVE) : undefined;
  if (plainDump) {
    if (plainDump.backend === 'nf_tables' && !fw.nfTables6) {
      fw.nfTables6 = mark(plainDump, 'nf_tables');
      fw.read.push(PROBE_IP6T_SAVE);
    } else if (plainDump.backend !== 'nf_tables' && !fw.legacy6) {
      fw.legacy6 = mark(plainDump, 'legacy');
      fw.read.push(PROBE_IP6T_SAVE);
    }
  }
  if (!fw.legacy6 && !fw.nfTables6 && plain && plain.status !== 'missing') fw.unavailable.push(why(PROBE_IP6T_SAVE, plain));
}

/** iptables-nft keeps its tables in nftables too: those are read from iptables-nft-save, not twice. */
export function managedByIptables(t: NftTable, fw: Pick<Firewall, 'nfTables' | 'nfTables6'>): boolean {
  if ((t.family !== 'ip' && t.family !== 'ip6') || !IPT_TABLES.has(t.name)) return false;
  if (t.family === 'ip' && fw.nfTables?.tables[t.name]) return true;
  if (t.family === 'ip6' && fw.nfTables6?.tables[t.name]) return true;
  return Object.keys(t.chains).some((c) => BUILTIN.test(c));
}

export const isIptables = (t: Table): t is IptTable => t.backend !== 'nft';
export const isNftNative = (t: Table): t is NftTable => t.backend === 'nft';

/** Base chains at a hook, in priority order. iptables tables map to their built-in chain; nft
 *  tables of family ip/inet to every base chain of that hook (and type, when given). */
export function chainsAt(
  fw: Firewall,
  hook: string,
  kind: 'nat' | 'filter' | 'raw' | 'mangle',
  family: 'ip' | 'ip6' = 'ip',
): Array<{ table: Table; chain: Chain }> {
  const out: Array<{ table: Table; chain: Chain; prio: number }> = [];
  const iptPrio: Record<string, number> = { raw: -300, mangle: -150, nat: hook === 'postrouting' || hook === 'input' ? 100 : -100, filter: 0 };
  for (const t of fw.tables) {
    if (isIptables(t)) {
      if (t.family !== family) continue;
      if (t.name !== kind) continue;
      const chain = t.chains[hook.toUpperCase()];
      if (chain) out.push({ table: t, chain, prio: iptPrio[kind] ?? 0 });
      continue;
    }
    if (t.family !== family && t.family !== 'inet') continue;
    for (const chain of Object.values(t.chains)) {
      if (chain.hook !== hook) continue;
      const prio = chain.priority ?? 0;
      const type = chain.type ?? 'filter';
      const matches =
        kind === 'nat'
          ? type === 'nat'
          : kind === 'raw'
            ? type === 'filter' && prio <= -300
            : kind === 'mangle'
              ? type === 'route' || (type === 'filter' && prio > -300 && prio < 0)
              : type === 'filter' && prio >= 0;
      if (matches) out.push({ table: t, chain, prio });
    }
  }
  return out.sort((a, b) => a.prio - b.prio).map(({ table, chain }) => ({ table, chain }));
}

export interface HookWalk extends WalkResult {
  verdict: string;
}

/** Walk every chain of a kind at a hook. */
export function walkHook(
  fw: Firewall,
  hook: string,
  kind: 'nat' | 'filter' | 'raw' | 'mangle',
  p: Packet,
  stopAt?: (a: import('./rules.js').Action) => boolean,
): HookWalk[] {
  return chainsAt(fw, hook, kind, packetFamily(p)).map(({ table, chain }) => {
    const w = walk(table, chain.name, p, stopAt ? { stopAt } : {});
    return { ...w, verdict: verdictOf(w) };
  });
}

/** Where a packet's path drops it: the walks of the filter (and mangle) chains that end in DROP/REJECT. */
export function dropsAt(fw: Firewall, hooks: string[], p: Packet): HookWalk[] {
  const out: HookWalk[] = [];
  for (const hook of hooks) {
    for (const kind of ['raw', 'mangle', 'filter'] as const) {
      for (const w of walkHook(fw, hook, kind, p)) if (w.verdict === 'DROP' || w.verdict === 'REJECT') out.push(w);
    }
  }
  return out;
}

/** Whether raw-table rules put the packet out of conntrack at this hook (prerouting or output). */
export function notrackAt(fw: Firewall, hook: 'prerouting' | 'output', p: Packet): HookWalk | undefined {
  return walkHook(fw, hook, 'raw', p, (a) => a.kind === 'notrack').find((w) => w.hit?.rule.action.kind === 'notrack');
}

/** The evidence line for a base chain's policy, as iptables-save prints it. */
export function policyLine(t: Table, chain: string): string {
  const c = t.chains[chain];
  if (isIptables(t)) return `*${t.name} :${chain} ${c?.policy ?? '-'}`;
  return `table ${t.family} ${t.name} chain ${chain} { type ${c?.type ?? 'filter'} hook ${c?.hook ?? '?'} priority ${c?.priority ?? 0}; policy ${(c?.policy ?? 'accept').toLowerCase()}; }`;
}

/** Rule count and non-ACCEPT policies: whether a ruleset is "in use". */
export function rulesIn(tables: Iterable<Table>): number {
  let n = 0;
  for (const t of tables) for (const c of Object.values(t.chains)) n += c.rules.length + (c.policy && c.policy !== 'ACCEPT' ? 1 : 0);
  return n;
}
