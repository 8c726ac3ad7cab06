// IPVS judged against the keepalived model: module availability, real servers quiesced (weight 0)
// or missing, NAT real servers that never reply, persistence templates pinning clients to a
// quiesced server, and the dsnat (FNAT/SNAT 0.0.0.0:0) services of patched kernels.
import ipaddr from 'ipaddr.js';
import { canon } from '../address.js';
import type { VirtualServer } from '../keepalived/model.js';
import { serviceKey, type IpvsConnection, type IpvsRealServer, type IpvsService, type IpvsTable } from './ipvsadm.js';

export type IpvsAvailability =
  | { state: 'loaded'; evidence: string }
  | { state: 'loadable'; evidence: string }
  | { state: 'absent'; evidence: string }
  | { state: 'unknown'; evidence: string };

export interface AvailabilityInputs {
  /** /sys/module/ip_vs listing: ok when the module is loaded or built in */
  sysModule?: { ok: boolean; reason?: string };
  /** /proc/net/ip_vs read */
  procIpVs?: { ok: boolean; reason?: string };
  /** `modinfo -F filename ip_vs`: exit 0 and a path or "(builtin)" when the kernel has it */
  modinfo?: { ok: boolean; exitCode?: number | null; stdout: string; stderr: string };
  /** `ipvsadm -L -n` */
  ipvsadm?: { ok: boolean; exitCode?: number | null; stdout: string; stderr: string };
}

export function ipvsAvailability(i: AvailabilityInputs): IpvsAvailability {
  if (i.sysModule?.ok) return { state: 'loaded', evidence: '/sys/module/ip_vs exists' };
  if (i.procIpVs?.ok) return { state: 'loaded', evidence: '/proc/net/ip_vs exists' };
  if (i.ipvsadm?.ok && i.ipvsadm.exitCode === 0 && /IP Virtual Server version/.test(i.ipvsadm.stdout))
    return { state: 'loaded', evidence: 'ipvsadm -Ln lists the table' };
  const ipvsadmSaysNo = i.ipvsadm?.ok && /Protocol not available|built in the kernel or as module/.test(`${i.ipvsadm.stdout}\n${i.ipvsadm.stderr}`);
  if (i.modinfo?.ok && i.modinfo.exitCode === 0 && i.modinfo.stdout.trim() !== '') {
    return ipvsadmSaysNo
      ? { state: 'absent', evidence: `modinfo finds ${i.modinfo.stdout.trim()} but ipvsadm: ${firstLine(i.ipvsadm!.stderr || i.ipvsadm!.stdout)}` }
      : { state: 'loadable', evidence: `modinfo: ${i.modinfo.stdout.trim()} (not loaded)` };
  }
  if (ipvsadmSaysNo) return { state: 'absent', evidence: `ipvsadm: ${firstLine(i.ipvsadm!.stderr || i.ipvsadm!.stdout)}` };
  if (i.modinfo?.ok && i.modinfo.exitCode !== 0 && i.sysModule && !i.sysModule.ok)
    return { state: 'absent', evidence: `modinfo: ${firstLine(i.modinfo.stderr) || 'module ip_vs not found'}` };
  return {
    state: 'unknown',
    evidence:
      [i.sysModule?.reason, i.modinfo ? undefined : 'modinfo not run', i.ipvsadm?.ok ? undefined : 'ipvsadm not run'].filter(Boolean).join('; ') ||
      'no IPVS probe ran',
  };
}

const firstLine = (s: string) =>
  s
    .split('\n')
    .find((l) => l.trim() !== '')
    ?.trim() ?? '';

/** The dsnat / FNAT-SNAT gateway service: 0.0.0.0:0 (all traffic) with a local address pool. */
export const isDsnatService = (vs: VirtualServer) =>
  vs.laddrGroupName !== undefined || (vs.address !== undefined && /^0\.0\.0\.0$|^::$/.test(vs.address) && (vs.port ?? 0) === 0);

/** The IPVS key a keepalived virtual_server becomes; undefined for `group` services. */
export function configServiceKey(vs: VirtualServer): string | undefined {
  if (vs.fwmark !== undefined) return serviceKey({ protocol: 'FWM', family: vs.address?.includes(':') ? 'inet6' : 'inet', fwmark: vs.fwmark });
  if (!vs.address) return undefined;
  let addr = vs.address;
  let family: 'inet' | 'inet6';
  try {
    const a = ipaddr.parse(addr);
    addr = a.toString();
    family = a.kind() === 'ipv6' ? 'inet6' : 'inet';
  } catch {
    return undefined;
  }
  return serviceKey({ protocol: (vs.protocol ?? 'TCP').toUpperCase(), family, address: addr, port: vs.port ?? 0 });
}

export type RealServerProblem =
  | { kind: 'service-missing'; vs: VirtualServer; key: string }
  | { kind: 'missing'; vs: VirtualServer; key: string; address: string; port: number }
  | { kind: 'quiesced'; vs?: VirtualServer; key: string; rs: IpvsRealServer; pinnedClients: IpvsConnection[] }
  | { kind: 'nat-no-reply'; vs?: VirtualServer; key: string; rs: IpvsRealServer };

/** InPkts above this with OutPkts 0 cannot be a server that is merely idle */
export const NAT_NO_REPLY_MIN_INPKTS = 100;

/**
 * Compares the config's virtual servers with the IPVS table (stats merged in, if collected).
 * Without a config, judges the table alone. dsnat services are left to dsnatStatus().
 */
export function realServerProblems(table: IpvsTable, virtualServers: VirtualServer[], conns: IpvsConnection[] | undefined): RealServerProblem[] {
  const out: RealServerProblem[] = [];
  const byKey = new Map(table.services.map((s) => [s.key, s]));
  const judged = new Set<string>();
  for (const vs of virtualServers) {
    if (isDsnatService(vs)) continue;
    const key = configServiceKey(vs);
    if (!key) continue;
    const svc = byKey.get(key);
    if (!svc) {
      out.push({ kind: 'service-missing', vs, key });
      continue;
    }
    judged.add(key);
    for (const rs of vs.realServers) {
      const port = rs.port ?? (vs.fwmark !== undefined ? 0 : (vs.port ?? 0));
      const hit = svc.realServers.find((r) => canon(r.address) === canon(rs.address) && r.port === port);
      if (!hit) out.push({ kind: 'missing', vs, key, address: rs.address, port });
    }
    out.push(...tableProblems(svc, conns, vs));
  }
  for (const svc of table.services)
    if (!judged.has(svc.key) && !(svc.address === '0.0.0.0' && svc.port === 0)) out.push(...tableProblems(svc, conns, undefined));
  return out;
}

function tableProblems(svc: IpvsService, conns: IpvsConnection[] | undefined, vs: VirtualServer | undefined): RealServerProblem[] {
  const out: RealServerProblem[] = [];
  for (const rs of svc.realServers) {
    if (rs.weight === 0) {
      const pinnedClients = (conns ?? []).filter(
        (c) =>
          c.template &&
          canon(c.destination) === canon(rs.address) &&
          c.destinationPort === rs.port &&
          (svc.fwmark !== undefined || (canon(c.virtual) === svc.address && c.virtualPort === svc.port)),
      );
      out.push({ kind: 'quiesced', key: svc.key, rs, pinnedClients, ...(vs ? { vs } : {}) });
    }
    // only NAT (Masq) replies pass back through the director; DR/TUN replies never show in OutPkts
    if (rs.forward === 'Masq' && rs.stats && rs.stats.inPkts >= NAT_NO_REPLY_MIN_INPKTS && rs.stats.outPkts === 0) {
      out.push({ kind: 'nat-no-reply', key: svc.key, rs, ...(vs ? { vs } : {}) });
    }
  }
  return out;
}

export type DsnatStatus =
  | { kind: 'ok'; vs: VirtualServer; pool: number }
  /** the running kernel/ipvsadm has no FNAT/SNAT support: a stock kernel */
  | { kind: 'unsupported'; vs: VirtualServer; why: string }
  | { kind: 'service-missing'; vs: VirtualServer }
  | { kind: 'empty-pool'; vs: VirtualServer };

/** ipvsadm -G output or error text tells a patched (FNAT/dsnat) build from a stock one. */
export function dsnatStatus(
  vs: VirtualServer,
  table: IpvsTable | undefined,
  laddr: { exitCode?: number | null; stdout: string; stderr: string } | undefined,
  pools: Array<{ service: string; total: number }> | undefined,
): DsnatStatus {
  const text = `${laddr?.stdout ?? ''}\n${laddr?.stderr ?? ''}`;
  if (!laddr || laddr.exitCode !== 0 || /invalid option|unknown option|bad argument/i.test(text)) {
    return { kind: 'unsupported', vs, why: firstLine(laddr?.stderr || laddr?.stdout || '') || 'ipvsadm -G did not run' };
  }
  const key = configServiceKey(vs);
  const svc = key ? table?.services.find((s) => s.key === key) : undefined;
  if (table && !svc) return { kind: 'service-missing', vs };
  const pool = pools?.find((p) => p.service === `${vs.address ?? '0.0.0.0'}:${vs.port ?? 0}`);
  if (pools && (!pool || pool.total === 0)) return { kind: 'empty-pool', vs };
  return { kind: 'ok', vs, pool: pool?.total ?? 0 };
}
