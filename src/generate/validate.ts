// Every value `generate` writes is validated here first: nothing from the user reaches a file (or a
// shell script) unless it is an address, a prefix, a CIDR, a number or an interface name by the rules below.
import ipaddr from 'ipaddr.js';

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

export type Validation = { ok: true; value: GenerateInput } | { ok: false; error: string };

class InputError extends Error {}

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

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** Carrier-grade NAT space and the RFC 1918 ranges: traffic to them is not source-NATed. */
export const DEFAULT_EXCLUDES = ['100.64.0.0/10', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

export function validateGenerateInput(raw: Record<string, unknown>): Validation {
  try {
    return { ok: true, value: validate(raw) };
  } catch (err) {
    if (err instanceof InputError) return { ok: false, error: err.message };
    return { ok: false, error: (err as Error)?.message ?? String(err) };
  }
}

function validate(raw: Record<string, unknown>): GenerateInput {
  const role = str(raw, 'role');
  if (role !== 'master' && role !== 'backup') return fail('role', `expects master or backup, not '${role ?? ''}'`);
  const iface = str(raw, 'interface') ?? fail('interface', 'is required');
  const ifErr = checkInterfaceName(iface);
  if (ifErr) fail('interface', ifErr);
  const vipText = str(raw, 'vip') ?? fail('vip', 'is required (ADDR/PREFIX)');
  const vip = parseIpv4WithPrefix(vipText) ?? fail('vip', `'${vipText}' is not an IPv4 address with a prefix (ADDR/PREFIX)`);
  const selfText = str(raw, 'self') ?? fail('self', 'is required');
  const self = parseIpv4(selfText) ?? fail('self', `'${selfText}' is not an IPv4 address`);
  const peerText = str(raw, 'peer') ?? fail('peer', 'is required');
  const peer = parseIpv4(peerText) ?? fail('peer', `'${peerText}' is not an IPv4 address`);
  if (self === peer) fail('peer', 'is the same address as --self');
  if (vip.address === self || vip.address === peer) fail('vip', 'must be an address of its own, not --self or --peer');
  const vrid = int(raw, 'vrid', 1, 255, 51);
  const priority = int(raw, 'priority', 1, 254, role === 'master' ? 150 : 100);
  const advertInt = int(raw, 'advertInt', 1, 255, 1);
  const authPass = str(raw, 'authPass');
  if (authPass !== undefined && !/^[\x21-\x7e]{1,8}$/.test(authPass)) fail('auth-pass', 'expects 1 to 8 printable characters without spaces (keepalived truncates longer ones)');
  if (authPass !== undefined && /["'!#{}\\$`]/.test(authPass)) fail('auth-pass', 'must not contain quotes, !, #, braces, $, ` or backslashes');
  const multicast = raw.multicast === true || raw.multicast === 'true';
  const wanIface = str(raw, 'wanInterface');
  if (wanIface !== undefined) {
    const e = checkInterfaceName(wanIface);
    if (e) fail('wan-interface', e);
    if (wanIface === iface) fail('wan-interface', 'must differ from --interface');
  }
  const wanVipText = str(raw, 'wanVip');
  let wanVip: Ipv4WithPrefix | undefined;
  if (wanVipText !== undefined) {
    wanVip = parseIpv4WithPrefix(wanVipText) ?? fail('wan-vip', `'${wanVipText}' is not an IPv4 address with a prefix (ADDR/PREFIX)`);
    if (!wanIface) fail('wan-vip', 'needs --wan-interface (the interface the WAN VIP goes on)');
    if (vrid === 255) fail('vrid', 'must be at most 254 with --wan-vip (the WAN instance uses VRID+1)');
  }
  const snatText = str(raw, 'snatSource');
  const snatSources = snatText === undefined ? [parseIpv4Cidr(`${vip.address}/${vip.prefix}`)!] : list(snatText).map((c) => parseIpv4Cidr(c) ?? fail('snat-source', `'${c}' is not an IPv4 network (CIDR)`));
  if (snatSources.length === 0) fail('snat-source', 'names no network');
  const extra = list(str(raw, 'exclude')).map((c) => parseIpv4Cidr(c) ?? fail('exclude', `'${c}' is not an IPv4 network (CIDR)`));
  // a client network inside 10/8 means the VPC is 10/8: excluding it would exempt the VPC's own traffic
  const defaults = DEFAULT_EXCLUDES.filter((e) => e !== '10.0.0.0/8' || !snatSources.some((s) => cidrContains(e, s)));
  const exclude = [...new Set([...defaults, ...extra])];
  const vip6Text = str(raw, 'vip6');
  let vip6: GenerateInput['vip6'];
  let self6: string | undefined;
  let peer6: string | undefined;
  if (vip6Text !== undefined) {
    vip6 = parseIpv6WithPrefix(vip6Text) ?? fail('vip6', `'${vip6Text}' is not an IPv6 address with a prefix (ADDR/PREFIX)`);
    if (ipaddr.IPv6.parse(vip6.address).range() === 'linkLocal' || ipaddr.IPv6.parse(vip6.address).range() === 'multicast') fail('vip6', 'must be a global (or unique local) address: keepalived adds the link-local one itself');
    if (vrid >= 254 && wanVip) fail('vrid', 'must be at most 253 with --wan-vip and --vip6 (the IPv6 instance uses VRID+2)');
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
  const out = str(raw, 'out') ?? fail('out', 'is required (the directory to write into)');
  if (!out.trim() || out.includes('\0')) fail('out', 'is not a usable path');
  let lvsNat: GenerateInput['lvsNat'];
  if (raw.lvsNat) {
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
    if (!['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'].includes(scheduler)) fail('scheduler', `'${scheduler}' is not an IPVS scheduler`);
    lvsNat = { port, protocol: protocolText as 'TCP' | 'UDP', scheduler, realServers: rs };
  }
  return {
    role, interface: iface, vip, self, peer, vrid, priority, advertInt, multicast, snatSources, exclude, out,
    ...(authPass !== undefined ? { authPass } : {}),
    ...(wanIface !== undefined ? { wanInterface: wanIface } : {}),
    ...(wanVip ? { wanVip } : {}),
    ...(lvsNat ? { lvsNat } : {}),
    ...(vip6 ? { vip6 } : {}),
    ...(self6 && peer6 ? { self6, peer6 } : {}),
  };
}
