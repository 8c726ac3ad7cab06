// The setup / generate form: one question per step, each validated before the next, defaults
// detected from the host. Produces the same flags as `hagw-doctor generate`. Pure.
import { peerReachProblem, priorityProblem, vipProblem } from '../../generate/sanity.js';
import ipaddr from 'ipaddr.js';
import type { HostInterface } from '../services.js';

export interface SetupAnswers {
  role: 'master' | 'backup';
  interface: string;
  vip: string;
  self: string;
  peer: string;
  transport: 'unicast' | 'multicast';
  vrid: string;
  priority: string;
  snatSource: string;
  exclude: string;
  wanInterface: string;
  wanVip: string;
}

export interface HostDefaults {
  interfaces: HostInterface[];
  /** VRIDs already used here or seen on the segment */
  vridsInUse: number[];
  /** destinations this host routes (CIDR, 0.0.0.0/0 for a default route), when known */
  routes?: string[];
}

export interface Choice {
  value: string;
  label: string;
  hint?: string;
}

export interface Question {
  id: keyof SetupAnswers;
  title: string;
  help: string;
  kind: 'choice' | 'text';
  choices?(a: Partial<SetupAnswers>, host: HostDefaults): Choice[];
  defaultValue(a: Partial<SetupAnswers>, host: HostDefaults): string;
  /** an error in words, or undefined when the value is good */
  validate(value: string, a: Partial<SetupAnswers>, host: HostDefaults): string | undefined;
  /** not asked for these answers (e.g. no SNAT: no WAN questions) */
  skip?(a: Partial<SetupAnswers>): boolean;
}

export const NONE = 'none';
const CGNAT = '100.64.0.0/10';
const TEN = '10.0.0.0/8';

export function isIPv4(v: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(v);
}

export function parseCidr(v: string): [ipaddr.IPv4, number] | undefined {
  try {
    const [addr, prefix] = ipaddr.IPv4.parseCIDR(v);
    return [addr, prefix];
  } catch {
    return undefined;
  }
}

function cidrList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function validCidrList(v: string, what: string): string | undefined {
  const items = cidrList(v);
  if (!items.length) return `give at least one ${what} (CIDR, e.g. 192.168.100.0/24)`;
  const bad = items.filter((c) => !parseCidr(c));
  return bad.length ? `not a CIDR: ${bad.join(', ')} (write ADDRESS/PREFIX, e.g. 10.0.0.0/8)` : undefined;
}

function networkOf(cidr: string): string | undefined {
  const p = parseCidr(cidr);
  if (!p) return undefined;
  return `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${p[1]}`;
}

function ifaceAddrs(host: HostDefaults, name: string | undefined): string[] {
  return host.interfaces.find((i) => i.name === name)?.ipv4 ?? [];
}

/** The first VRID from 51 up that nothing here or on the segment uses. */
export function freeVrid(inUse: readonly number[]): number {
  for (let v = 51; v <= 255; v++) if (!inUse.includes(v)) return v;
  for (let v = 1; v < 51; v++) if (!inUse.includes(v)) return v;
  return 51;
}

/** 100.64.0.0/10 always; 10.0.0.0/8 unless the LAN itself is inside it (its clients talk to it directly). */
export function defaultExclusions(lanCidr: string | undefined): string {
  const p = lanCidr ? parseCidr(lanCidr) : undefined;
  const inTen = p ? p[0].match(ipaddr.IPv4.parseCIDR(TEN)) : false;
  return inTen ? CGNAT : `${CGNAT},${TEN}`;
}

function lanCidr(a: Partial<SetupAnswers>, host: HostDefaults): string | undefined {
  const own = ifaceAddrs(host, a.interface)[0];
  if (own) return own;
  return a.vip && parseCidr(a.vip) ? a.vip : undefined;
}

export const QUESTIONS: readonly Question[] = [
  {
    id: 'role',
    title: 'Role of this node',
    help: 'The master holds the VIPs and does the SNAT; the backup takes over when the master stops advertising.',
    kind: 'choice',
    choices: () => [
      { value: 'master', label: 'master', hint: 'priority 150, holds the VIPs normally' },
      { value: 'backup', label: 'backup', hint: 'priority 100, takes over on failure' },
    ],
    defaultValue: () => 'master',
    validate: (v) => (v === 'master' || v === 'backup' ? undefined : 'choose master or backup'),
  },
  {
    id: 'interface',
    title: 'LAN interface (VRRP adverts and the VIP)',
    help: 'The interface facing the clients; the adverts go out on it and the VIP is added to it.',
    kind: 'choice',
    choices: (_a, host) =>
      host.interfaces.filter((i) => !i.internal).map((i) => ({ value: i.name, label: i.name, hint: i.ipv4.join(', ') || 'no IPv4 address' })),
    defaultValue: (_a, host) => host.interfaces.find((i) => !i.internal && i.ipv4.length)?.name ?? host.interfaces.find((i) => !i.internal)?.name ?? '',
    validate: (v, _a, host) =>
      !/^[A-Za-z0-9_.@-]{1,15}$/.test(v)
        ? 'not an interface name'
        : host.interfaces.length && !host.interfaces.some((i) => i.name === v)
          ? `no interface ${v} on this host`
          : undefined,
  },
  {
    id: 'vip',
    title: 'LAN VIP (address/prefix)',
    help: 'The address clients use as their gateway; it moves to whichever node is master.',
    kind: 'text',
    defaultValue: () => '',
    validate: (v, a, host) => {
      const p = parseCidr(v);
      if (!p) return 'write ADDRESS/PREFIX, e.g. 192.168.100.1/24';
      const problems: string[] = [];
      const bad = vipProblem(p[0].toString(), p[1]);
      if (bad) problems.push(bad);
      const own = a.self;
      if (own && p[0].toString() === own) problems.push("the VIP must not be this node's own address");
      const local = host.interfaces.flatMap((i) => i.ipv4.map((x) => x.split('/')[0]));
      if (local.includes(p[0].toString()) && !problems.length)
        problems.push(`${p[0].toString()} is already an address of this host: a VIP must be an address of its own`);
      return problems.length ? problems.join('; ') : undefined;
    },
  },
  {
    id: 'self',
    title: "This node's address on the LAN interface",
    help: "Used as unicast_src_ip: the source of this node's adverts.",
    kind: 'text',
    defaultValue: (a, host) => ifaceAddrs(host, a.interface)[0]?.split('/')[0] ?? '',
    validate: (v, a, host) => {
      if (!isIPv4(v)) return 'not an IPv4 address';
      if (a.vip && parseCidr(a.vip)?.[0].toString() === v) return "this is the VIP; give the node's own address";
      const local = ifaceAddrs(host, a.interface).map((x) => x.split('/')[0]);
      if (local.length && !local.includes(v)) return `${a.interface} has ${local.join(', ')}, not ${v}`;
      return undefined;
    },
  },
  {
    id: 'peer',
    title: "The peer's address on the same LAN",
    help: 'The other node of the pair: unicast adverts go to it, and its adverts are accepted from it.',
    kind: 'text',
    defaultValue: () => '',
    validate: (v, a, host) => {
      if (!isIPv4(v)) return 'not an IPv4 address';
      if (v === a.self) return 'the peer cannot be this node';
      if (a.vip && parseCidr(a.vip)?.[0].toString() === v) return "this is the VIP; give the peer's own address";
      const subnets = host.interfaces.filter((i) => !i.internal).flatMap((i) => i.ipv4);
      return peerReachProblem(v, { subnets, ...(host.routes ? { routes: host.routes } : {}) });
    },
  },
  {
    id: 'transport',
    title: 'How adverts travel',
    help: 'Unicast works everywhere, cloud VPCs included; multicast (224.0.0.18) only on a LAN that delivers it.',
    kind: 'choice',
    choices: () => [
      { value: 'unicast', label: 'unicast', hint: 'to the peer address (recommended, required on cloud VPCs)' },
      { value: 'multicast', label: 'multicast', hint: '224.0.0.18, plain LANs only' },
    ],
    defaultValue: () => 'unicast',
    validate: (v) => (v === 'unicast' || v === 'multicast' ? undefined : 'choose unicast or multicast'),
  },
  {
    id: 'vrid',
    title: 'Virtual router id (1-255)',
    help: 'Both nodes use the same id; it must differ from every other VRRP cluster on the segment.',
    kind: 'text',
    defaultValue: (_a, host) => String(freeVrid(host.vridsInUse)),
    validate: (v, _a, host) => {
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 255) return 'a whole number from 1 to 255';
      if (host.vridsInUse.includes(Number(v))) return `VRID ${v} is already in use here or on the segment (in use: ${host.vridsInUse.join(', ')})`;
      return undefined;
    },
  },
  {
    id: 'priority',
    title: 'VRRP priority (1-254)',
    help: 'The higher priority becomes master; the master should be above the backup.',
    kind: 'text',
    defaultValue: (a) => (a.role === 'backup' ? '100' : '150'),
    validate: (v, a) => {
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 254) return 'a whole number from 1 to 254';
      // the other node's default: the peer command printed at the end keeps the master above the backup
      const role = a.role === 'backup' ? 'backup' : 'master';
      return priorityProblem(role, Number(v), role === 'backup' ? 150 : 100);
    },
  },
  {
    id: 'snatSource',
    title: `Client networks to SNAT (comma-separated; "${NONE}" for none)`,
    help: 'Traffic from these networks leaves through the WAN with the SNAT address.',
    kind: 'text',
    defaultValue: (a, host) => networkOf(lanCidr(a, host) ?? '') ?? NONE,
    validate: (v) => (v === NONE ? undefined : validCidrList(v, 'client network')),
  },
  {
    id: 'exclude',
    title: 'Destinations never SNATed (comma-separated)',
    help: 'Exclusions stand before the SNAT rule. 100.64.0.0/10 always; 10.0.0.0/8 unless the LAN is inside it.',
    kind: 'text',
    defaultValue: (a, host) => defaultExclusions(lanCidr(a, host)),
    validate: (v) => validCidrList(v, 'destination'),
    skip: (a) => a.snatSource === NONE,
  },
  {
    id: 'wanInterface',
    title: 'WAN interface (SNAT out)',
    help: 'The interface the SNATed traffic leaves by; the WAN VIP goes on it.',
    kind: 'choice',
    choices: (a, host) =>
      host.interfaces
        .filter((i) => !i.internal && i.name !== a.interface)
        .map((i) => ({ value: i.name, label: i.name, hint: i.ipv4.join(', ') || 'no IPv4 address' })),
    defaultValue: (a, host) => host.interfaces.find((i) => !i.internal && i.name !== a.interface)?.name ?? '',
    validate: (v, a) =>
      !/^[A-Za-z0-9_.@-]{1,15}$/.test(v) ? 'not an interface name' : v === a.interface ? 'the WAN interface must differ from the LAN interface' : undefined,
    skip: (a) => a.snatSource === NONE,
  },
  {
    id: 'wanVip',
    title: 'SNAT address: the WAN VIP (address/prefix)',
    help: "The source address clients' traffic gets; it moves with the master so replies find it.",
    kind: 'text',
    defaultValue: () => '',
    validate: (v) => (parseCidr(v) ? undefined : 'write ADDRESS/PREFIX, e.g. 203.0.113.10/24'),
    skip: (a) => a.snatSource === NONE,
  },
];

/** The questions still to ask, given the answers so far. */
export function activeQuestions(a: Partial<SetupAnswers>): Question[] {
  return QUESTIONS.filter((q) => !q.skip?.(a));
}

/** The flags of `hagw-doctor generate` (commander's camelCase keys), without --out. */
export function generateFlags(a: SetupAnswers): Record<string, string | boolean | undefined> {
  const flags: Record<string, string | boolean | undefined> = {
    role: a.role,
    interface: a.interface,
    vip: a.vip,
    self: a.self,
    peer: a.peer,
    vrid: a.vrid,
    priority: a.priority,
  };
  if (a.transport === 'multicast') flags.multicast = true;
  if (a.snatSource && a.snatSource !== NONE) {
    flags.snatSource = cidrList(a.snatSource).join(',');
    flags.exclude = cidrList(a.exclude).join(',');
    flags.wanInterface = a.wanInterface;
    flags.wanVip = a.wanVip;
  }
  return flags;
}

/** The answers the peer needs: the other role, the addresses swapped, a priority on the right side. */
export function peerAnswers(a: SetupAnswers): SetupAnswers {
  const p = Number(a.priority);
  const role = a.role === 'master' ? 'backup' : 'master';
  const priority = role === 'backup' ? Math.max(1, Math.min(100, p - 50)) : Math.min(254, Math.max(150, p + 50));
  return { ...a, role, self: a.peer, peer: a.self, priority: String(priority) };
}

const FLAG_ORDER = ['role', 'interface', 'vip', 'self', 'peer', 'vrid', 'priority', 'multicast', 'snatSource', 'exclude', 'wanInterface', 'wanVip', 'out'];

function kebab(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The exact command line (display: every value is a plain token, so no quoting is needed). */
export function generateCommandLine(flags: Record<string, string | boolean | undefined>, out: string): string {
  const all: Record<string, string | boolean | undefined> = { ...flags, out };
  const parts = ['hagw-doctor', 'generate'];
  for (const k of FLAG_ORDER) {
    const v = all[k];
    if (v === undefined || v === false) continue;
    parts.push(`--${kebab(k)}`);
    if (v !== true) parts.push(/^[A-Za-z0-9_@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  }
  return parts.join(' ');
}
