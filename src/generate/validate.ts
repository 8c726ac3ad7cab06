// Every value `generate` writes is validated here first: nothing from the user reaches a file (or a
// shell script) unless it is an address, a prefix, a CIDR, a number or an interface name by the rules below.
import ipaddr from 'ipaddr.js';
import { peerReachProblem, priorityProblem, vipProblem, type NetworkFacts } from './sanity.js';

export type { NetworkFacts };

export interface Ipv4WithPrefix {
  address: string;
  prefix: number;
}

export interface RealServerSpec {
  address: string;
  port: number;
}

export interface GenerateInput {
  role: 'master' | 'backup';
  interface: string;
  vip: Ipv4WithPrefix;
  self: string;
  peer: string;
  vrid: number;
  priority: number;
  advertInt: number;
  authPass?: string;
  multicast: boolean;
  /** client networks whose traffic is source-NATed (default: the LAN VIP's network) */
  snatSources: string[];
  wanInterface?: string;
  wanVip?: Ipv4WithPrefix;
  /** destinations that bypass SNAT, in order (defaults plus --exclude) */
  exclude: string[];
  out: string;
  /** --vip6: an IPv6 VIP on the LAN interface, in a VRRPv3 instance of its own (VI_LAN6) */
  vip6?: { address: string; prefix: number };
  /** --self6/--peer6: IPv6 unicast adverts; without them (or with --multicast) to ff02::12 from the link-local address */
  self6?: string;
  peer6?: string;
  /** --lvs-nat: an LVS-NAT director instead of a SNAT gateway */
  lvsNat?: { port: number; protocol: 'TCP' | 'UDP'; scheduler: string; realServers: RealServerSpec[] };
}

/** `error`: every problem in one line; `errors`: each on its own (all are reported at once). */
export type Validation = { ok: true; value: GenerateInput } | { ok: false; error: string; errors: string[] };

class InputError extends Error {}
class InputErrors extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('; '));
  }
}

const fail = (opt: string, msg: string): never => {
  throw new InputError(`--${opt}: ${msg}`);
};

const str = (raw: Record<string, unknown>, key: string): string | undefined => {
  const v = raw[key];
  if (v === undefined || v === null || v === false) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return fail(kebab(key), 'expects a value');
  return v;
};

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Interface names as the kernel accepts them (dev_valid_name), minus what keepalived.conf cannot hold. */
export function checkInterfaceName(name: string): string | null {
  if (name.length < 1 || name.length > 15) return 'an interface name has 1 to 15 characters';
  if (name === '.' || name === '..') return `'${name}' is not an interface name`;
  if (/[/:\s]/.test(name)) return 'an interface name has no "/", ":" or white space';
  // the kernel accepts these, but keepalived.conf would read them as comments, quotes or blocks
  if (/[^\x21-\x7e]|["'!#{}\\$@`;|&<>()*?[\]~]/.test(name)) return `'${name}' has characters keepalived.conf or a shell script cannot hold safely`;
  return null;
}

export function parseIpv4(text: string): string | null {
  return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text).toString() : null;
}

/** ADDR/PREFIX with the host address kept (a VIP). */
export function parseIpv4WithPrefix(text: string): Ipv4WithPrefix | null {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return null;
  const address = parseIpv4(m[1]!);
  const prefix = Number(m[2]);
  if (!address || prefix < 1 || prefix > 32) return null;
  return { address, prefix };
}

/** A network in CIDR form, normalised to its network address (192.168.1.5/24 -> 192.168.1.0/24). */
export function parseIpv4Cidr(text: string): string | null {
  const m = /^([0-9.]+)(?:\/(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  const address = parseIpv4(m[1]!);
  const prefix = m[2] === undefined ? 32 : Number(m[2]);
  if (!address || prefix < 0 || prefix > 32) return null;
  return `${ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`).toString()}/${prefix}`;
}

/** An IPv6 address (not IPv4-mapped), normalised; null when it is not one. */
export function parseIpv6(text: string): string | null {
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return null;
  const a = ipaddr.IPv6.parse(text);
  if (a.isIPv4MappedAddress()) return null;
  return a.toString();
}

/** An IPv6 ADDR/PREFIX (a VIP), prefix 1-128. */
export function parseIpv6WithPrefix(text: string): { address: string; prefix: number } | null {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(text);
  if (!m) return null;
  const address = parseIpv6(m[1]!);
  const prefix = Number(m[2]);
  if (!address || prefix < 1 || prefix > 128) return null;
  return { address, prefix };
}

export function cidrContains(outer: string, inner: string): boolean {
  const [oa, op] = ipaddr.parseCIDR(outer);
  const [ia, ip] = ipaddr.parseCIDR(inner);
  return ip >= op && (ia as ipaddr.IPv4).match([oa as ipaddr.IPv4, op]);
}

const int = (raw: Record<string, unknown>, key: string, min: number, max: number, dflt: number): number => {
  const v = str(raw, key);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v.trim())) return fail(kebab(key), `'${v}' is not a whole number`);
  const n = Number(v.trim());
  if (n < min || n > max) return fail(kebab(key), `${n} is outside ${min}-${max}`);
  return n;
};

function parseAddrPort(text: string): RealServerSpec | null {
  const m = /^([0-9.]+):(\d{1,5})$/.exec(text.trim());
  const address = m ? parseIpv4(m[1]!) : null;
  const port = m ? Number(m[2]) : NaN;
  return address && port >= 1 && port <= 65535 ? { address, port } : null;
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Carrier-grade NAT space and the RFC 1918 ranges: traffic to them is not source-NATed. */
export const DEFAULT_EXCLUDES = ['100.64.0.0/10', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

export function validateGenerateInput(raw: Record<string, unknown>, facts?: NetworkFacts): Validation {
  try {
    return { ok: true, value: validate(raw, facts) };
  } catch (err) {
    if (err instanceof InputErrors) return { ok: false, error: err.message, errors: err.errors };
    if (err instanceof InputError) return { ok: false, error: err.message, errors: [err.message] };
    const msg = (err as Error)?.message ?? String(err);
    return { ok: false, error: msg, errors: [msg] };
  }
}

function validate(raw: Record<string, unknown>, facts: NetworkFacts | undefined): GenerateInput {
  const errors: string[] = [];
  // each value is judged on its own, so every problem is reported at once
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof InputError) {
        errors.push(err.message);
        return undefined;
      }
      throw err;
    }
  };
  const role = attempt(() => {
    const r = str(raw, 'role');
    return r === 'master' || r === 'backup' ? r : fail('role', `expects master or backup, not '${r ?? ''}'`);
  });
  const iface = attempt(() => {
    const i = str(raw, 'interface') ?? fail('interface', 'is required');
    const ifErr = checkInterfaceName(i);
    if (ifErr) fail('interface', ifErr);
    return i;
  });
  const vip = attempt(() => {
    const vipText = str(raw, 'vip') ?? fail('vip', 'is required (ADDR/PREFIX)');
    const v = parseIpv4WithPrefix(vipText) ?? fail('vip', `'${vipText}' is not an IPv4 address with a prefix (ADDR/PREFIX)`);
    const bad = vipProblem(v.address, v.prefix);
    if (bad) fail('vip', bad);
    return v;
  });
  const self = attempt(() => {
    const selfText = str(raw, 'self') ?? fail('self', 'is required');
    return parseIpv4(selfText) ?? fail('self', `'${selfText}' is not an IPv4 address`);
  });
  const peer = attempt(() => {
    const peerText = str(raw, 'peer') ?? fail('peer', 'is required');
    return parseIpv4(peerText) ?? fail('peer', `'${peerText}' is not an IPv4 address`);
  });
  if (self && peer && self === peer) attempt(() => fail('peer', 'is the same address as --self'));
  if (vip && (vip.address === self || vip.address === peer))
    attempt(() =>
      fail(
        'vip',
        `${vip.address} is ${vip.address === self ? "this node's own address (--self)" : "the peer's address (--peer)"}: a VIP must be an address of its own`,
      ),
    );
  const multicast = raw.multicast === true || raw.multicast === 'true';
  if (peer && !multicast)
    attempt(() => {
      const bad = peerReachProblem(peer, facts);
      if (bad) fail('peer', bad);
    });
  const vrid = attempt(() => int(raw, 'vrid', 1, 255, 51));
  const priority = attempt(() => int(raw, 'priority', 1, 254, role === 'backup' ? 100 : 150));
  const peerPriority = attempt(() => int(raw, 'peerPriority', 1, 254, role === 'backup' ? 150 : 100));
  if (role && priority !== undefined && peerPriority !== undefined)
    attempt(() => {
      const bad = priorityProblem(role, priority, peerPriority);
      if (bad) fail('priority', bad);
    });
  const advertInt = attempt(() => int(raw, 'advertInt', 1, 255, 1));
  const authPass = attempt(() => {
    const a = str(raw, 'authPass');
    if (a !== undefined && !/^[\x21-\x7e]{1,8}$/.test(a))
      fail('auth-pass', 'expects 1 to 8 printable characters without spaces (keepalived truncates longer ones)');
    if (a !== undefined && /["'!#{}\\$`]/.test(a)) fail('auth-pass', 'must not contain quotes, !, #, braces, $, ` or backslashes');
    return a;
  });
  const wanIface = attempt(() => {
    const w = str(raw, 'wanInterface');
    if (w !== undefined) {
      const e = checkInterfaceName(w);
      if (e) fail('wan-interface', e);
      if (w === iface) fail('wan-interface', 'must differ from --interface');
    }
    return w;
  });
  const wanVip = attempt(() => {
    const wanVipText = str(raw, 'wanVip');
    if (wanVipText === undefined) return undefined;
    const w = parseIpv4WithPrefix(wanVipText) ?? fail('wan-vip', `'${wanVipText}' is not an IPv4 address with a prefix (ADDR/PREFIX)`);
    const bad = vipProblem(w.address, w.prefix);
    if (bad) fail('wan-vip', bad);
    if (!str(raw, 'wanInterface')) fail('wan-vip', 'needs --wan-interface (the interface the WAN VIP goes on)');
    if (vrid === 255) fail('vrid', 'must be at most 254 with --wan-vip (the WAN instance uses VRID+1)');
    return w;
  });
  const snatSources = attempt(() => {
    const snatText = str(raw, 'snatSource');
    if (snatText === undefined) return vip ? [parseIpv4Cidr(`${vip.address}/${vip.prefix}`)!] : [];
    const l = list(snatText).map((c) => parseIpv4Cidr(c) ?? fail('snat-source', `'${c}' is not an IPv4 network (CIDR)`));
    if (l.length === 0) fail('snat-source', 'names no network');
    return l;
  });
  const extra = attempt(() => list(str(raw, 'exclude')).map((c) => parseIpv4Cidr(c) ?? fail('exclude', `'${c}' is not an IPv4 network (CIDR)`))) ?? [];
  const v6 = attempt(() => {
    const vip6Text = str(raw, 'vip6');
    let vip6: GenerateInput['vip6'];
    let self6: string | undefined;
    let peer6: string | undefined;
    if (vip6Text !== undefined) {
      vip6 = parseIpv6WithPrefix(vip6Text) ?? fail('vip6', `'${vip6Text}' is not an IPv6 address with a prefix (ADDR/PREFIX)`);
      if (ipaddr.IPv6.parse(vip6.address).range() === 'linkLocal' || ipaddr.IPv6.parse(vip6.address).range() === 'multicast')
        fail('vip6', 'must be a global (or unique local) address: keepalived adds the link-local one itself');
      if (vrid !== undefined && vrid >= 254 && str(raw, 'wanVip') !== undefined)
        fail('vrid', 'must be at most 253 with --wan-vip and --vip6 (the IPv6 instance uses VRID+2)');
      if (vrid === 255) fail('vrid', 'must be at most 254 with --vip6 (the IPv6 instance uses the next free VRID)');
    }
    const self6Text = str(raw, 'self6');
    const peer6Text = str(raw, 'peer6');
    if ((self6Text === undefined) !== (peer6Text === undefined)) fail(self6Text === undefined ? 'self6' : 'peer6', 'goes with --self6 and --peer6 together');
    if (self6Text !== undefined) {
      if (!vip6) fail('self6', 'needs --vip6');
      self6 = parseIpv6(self6Text) ?? fail('self6', `'${self6Text}' is not an IPv6 address`);
      peer6 = parseIpv6(peer6Text!) ?? fail('peer6', `'${peer6Text}' is not an IPv6 address`);
      if (self6 === peer6) fail('peer6', 'is the same address as --self6');
      if (vip6!.address === self6 || vip6!.address === peer6) fail('vip6', 'must be an address of its own, not --self6 or --peer6');
    }
    return { vip6, self6, peer6 };
  });
  const out = attempt(() => {
    const o = str(raw, 'out') ?? fail('out', 'is required (the directory to write into)');
    if (!o.trim() || o.includes('\0')) fail('out', 'is not a usable path');
    return o;
  });
  let lvsNat: GenerateInput['lvsNat'];
  if (raw.lvsNat) lvsNat = attempt(() => lvsNatOf(raw, wanVip));
  if (errors.length) throw new InputErrors(errors);
  // a client network inside 10/8 means the VPC is 10/8: excluding it would exempt the VPC's own traffic
  const defaults = DEFAULT_EXCLUDES.filter((e) => e !== '10.0.0.0/8' || !snatSources!.some((s) => cidrContains(e, s)));
  const exclude = [...new Set([...defaults, ...extra])];
  return {
    role: role!,
    interface: iface!,
    vip: vip!,
    self: self!,
    peer: peer!,
    vrid: vrid!,
    priority: priority!,
    advertInt: advertInt!,
    multicast,
    snatSources: snatSources!,
    exclude,
    out: out!,
    ...(authPass !== undefined ? { authPass } : {}),
    ...(wanIface !== undefined ? { wanInterface: wanIface } : {}),
    ...(wanVip ? { wanVip } : {}),
    ...(lvsNat ? { lvsNat } : {}),
    ...(v6?.vip6 ? { vip6: v6.vip6 } : {}),
    ...(v6?.self6 && v6?.peer6 ? { self6: v6.self6, peer6: v6.peer6 } : {}),
  };
}

function lvsNatOf(raw: Record<string, unknown>, wanVip: Ipv4WithPrefix | undefined): NonNullable<GenerateInput['lvsNat']> {
  if (!wanVip) fail('lvs-nat', 'needs --wan-vip (the service address) and --wan-interface');
  // commander gives --real-server as realServer; realServers is accepted too (the wizard)
  const rsOpt = str(raw, 'realServer') !== undefined ? 'realServer' : 'realServers';
  const rs = list(str(raw, rsOpt)).map((t) => parseAddrPort(t) ?? fail('real-server', `'${t}' is not ADDR:PORT`));
  if (rs.length === 0) fail('real-server', 'is required with --lvs-nat (ADDR:PORT,...)');
  let port = rs[0]!.port;
  const vsText = str(raw, 'virtualServer');
  if (vsText !== undefined) {
    const vs = parseAddrPort(vsText) ?? fail('virtual-server', `'${vsText}' is not ADDR:PORT`);
    if (vs.address !== wanVip!.address) fail('virtual-server', `the service address must be the WAN VIP ${wanVip!.address}`);
    port = vs.port;
  }
  const protocolText = (str(raw, 'protocol') ?? 'TCP').toUpperCase();
  if (protocolText !== 'TCP' && protocolText !== 'UDP') fail('protocol', 'expects TCP or UDP');
  const scheduler = str(raw, 'scheduler') ?? 'wlc';
  if (!['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'].includes(scheduler))
    fail('scheduler', `'${scheduler}' is not an IPVS scheduler`);
  return { port, protocol: protocolText as 'TCP' | 'UDP', scheduler, realServers: rs };
}
