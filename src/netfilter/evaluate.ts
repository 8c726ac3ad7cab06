// A small rule evaluator: which rule of a chain (following jumps, gotos and RETURNs) decides a
// packet. Three-valued: a match the evaluator does not model is "unknown"; a rule that only might
// match is reported in `maybes` and the walk goes on as if it did not, so a definite result never
// rests on a guess.
import ipaddr from 'ipaddr.js';
import type { Action, Chain, Cond, Rule, Table } from './rules.js';
import { inCidr, ipv4ToNumber, protocolNumber } from './rules.js';

export interface Packet {
  /** number or name (vrrp = 112) */
  proto: number | string;
  src?: string;
  dst?: string;
  inIface?: string;
  outIface?: string;
  /** conntrack state: NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED; undefined = unknown */
  state?: string;
  /** addresses of this host (for addrtype LOCAL) */
  localAddresses?: readonly string[];
  /** ip (IPv4) or ip6; when absent, read from src/dst (an address with ':' is IPv6), else ip */
  family?: 'ip' | 'ip6';
}

/** The packet's family: given, or read from its addresses. */
export function packetFamily(p: Packet): 'ip' | 'ip6' {
  if (p.family) return p.family;
  return (p.src ?? p.dst ?? '').includes(':') ? 'ip6' : 'ip';
}

export type Tri = true | false | 'unknown';

export interface RuleRef {
  table: Table;
  rule: Rule;
  /** the jump rules that led to the rule, outermost first */
  via: Rule[];
}

export interface Maybe extends RuleRef {
  /** the conditions that could not be evaluated */
  unknown: Cond[];
}

export interface WalkResult {
  table: Table;
  chain: string;
  /** the rule whose action decided (or, with `stopAt`, the first rule the question is about) */
  hit?: RuleRef;
  /** no rule decided: the base chain's policy (ACCEPT for nft chains without one) */
  policy?: string;
  /** rules that might have decided earlier, had their unknown matches matched */
  maybes: Maybe[];
}

export interface WalkOptions {
  /** extra actions that end the walk (the question being asked), e.g. notrack in raw */
  stopAt?: (a: Action) => boolean;
}

const MAX_DEPTH = 32;

export function evalCond(c: Cond, p: Packet): Tri {
  const res = evalPositive(c, p);
  if (res === 'unknown' || !('neg' in c) || !c.neg) return res;
  return !res;
}

function evalPositive(c: Cond, p: Packet): Tri {
  switch (c.kind) {
    case 'true':
      return true;
    case 'unknown':
      return 'unknown';
    case 'proto': {
      const num = protocolNumber(p.proto);
      return num === undefined ? 'unknown' : num === c.proto;
    }
    case 'addr': {
      const a = c.dir === 'src' ? p.src : p.dst;
      if (!a) return 'unknown';
      let unknown = false;
      for (const cidr of c.cidrs) {
        const r = inCidr(a, cidr);
        if (r === true) return true;
        if (r === undefined) unknown = true;
      }
      return unknown ? 'unknown' : false;
    }
    case 'range': {
      const a = ipv4ToNumber((c.dir === 'src' ? p.src : p.dst) ?? '');
      const from = ipv4ToNumber(c.from);
      const to = ipv4ToNumber(c.to);
      if (a === undefined || from === undefined || to === undefined) return 'unknown';
      return a >= from && a <= to;
    }
    case 'iface': {
      const name = c.dir === 'in' ? p.inIface : p.outIface;
      if (name === undefined) return 'unknown';
      return ifaceMatches(c.name, name);
    }
    case 'family':
      return packetFamily(p) === c.family;
    case 'state':
      if (!p.state) return 'unknown';
      return c.states.includes(p.state.toUpperCase());
    case 'addrtype': {
      const a = c.dir === 'src' ? p.src : p.dst;
      if (!a || !ipaddr.isValid(a)) return 'unknown';
      const range = ipaddr.parse(a).range();
      let unknown = false;
      for (const t of c.types) {
        if (t === 'MULTICAST') {
          if (range === 'multicast') return true;
        } else if (t === 'UNICAST') {
          if (range !== 'multicast' && range !== 'broadcast') return true;
        } else if (t === 'BROADCAST') {
          if (range === 'broadcast') return true;
          unknown = true; // subnet broadcasts need the interface's prefix
        } else if (t === 'LOCAL') {
          if (range === 'loopback') return true;
          if (p.localAddresses) {
            if (p.localAddresses.includes(a)) return true;
          } else unknown = true;
        } else unknown = true;
      }
      return unknown ? 'unknown' : false;
    }
  }
}

/** iptables interface names: a trailing "+" is a prefix wildcard; nft uses "*". */
export function ifaceMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith('+') || pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

export function evalRule(rule: Rule, p: Packet): { result: Tri; unknown: Cond[] } {
  const unknown: Cond[] = [];
  for (const c of rule.conds) {
    const r = evalCond(c, p);
    if (r === false) return { result: false, unknown: [] };
    if (r === 'unknown') unknown.push(c);
  }
  return { result: unknown.length ? 'unknown' : true, unknown };
}

const isTerminal = (a: Action) => a.kind !== 'continue' && a.kind !== 'jump' && a.kind !== 'goto';

/** Walk `chainName` of `table` for packet p. */
export function walk(table: Table, chainName: string, p: Packet, opts: WalkOptions = {}): WalkResult {
  const maybes: Maybe[] = [];
  const chain = table.chains[chainName];
  const result: WalkResult = { table, chain: chainName, maybes };
  if (!chain) return result;

  type Outcome = { kind: 'hit'; ref: RuleRef } | { kind: 'return' };
  const visit = (c: Chain, via: Rule[], guessed: Cond[] | null, depth: number): Outcome => {
    for (const rule of c.rules) {
      const { result: r, unknown } = evalRule(rule, p);
      if (r === false) continue;
      const guess = r === 'unknown' || guessed !== null ? [...(guessed ?? []), ...unknown] : null;
      const a = rule.action;
      const asked = opts.stopAt?.(a) ?? false;
      if (a.kind === 'jump' || a.kind === 'goto') {
        const target = table.chains[a.chain];
        if (!target || depth >= MAX_DEPTH) continue;
        const out = visit(target, [...via, rule], guess, depth + 1);
        if (out.kind === 'hit') return out;
        if (a.kind === 'goto' && guess === null) return { kind: 'return' };
        continue;
      }
      if (!asked && !isTerminal(a)) continue;
      if (guess !== null) {
        maybes.push({ table, rule, via, unknown: guess });
        continue;
      }
      if (a.kind === 'return' && !asked) return { kind: 'return' };
      return { kind: 'hit', ref: { table, rule, via } };
    }
    return { kind: 'return' };
  };
  const out = visit(chain, [], null, 0);
  if (out.kind === 'hit') result.hit = out.ref;
  else result.policy = chain.policy ?? 'ACCEPT';
  return result;
}

/** The verdict a walk amounts to, in iptables words: ACCEPT, DROP, REJECT, SNAT, MASQUERADE... */
export function verdictOf(w: WalkResult): string {
  if (!w.hit) return (w.policy ?? 'ACCEPT').toUpperCase();
  const a = w.hit.rule.action;
  switch (a.kind) {
    case 'terminal':
    case 'continue':
      return a.name;
    case 'jump':
    case 'goto':
      return a.chain;
    default:
      return a.kind.toUpperCase();
  }
}

/** A rule as evidence: the chain path and the rule text. */
export function describeRef(ref: RuleRef): string {
  const via = ref.via.map((r) => `${r.text} -> `).join('');
  return `${via}${ref.rule.text}`;
}
