// keepalived.conf settings the field-failure checks need that the main model (parse.ts) does not
// carry: use_vmac, virtual_routes/static_routes, sync_group_tracking_weight, track_process/file,
// VIP brd. Read from the same syntax tree (same files, same config id) once per analysis, so the
// model stays small and these checks own their extra reading.
import type { CheckContext } from '../context.js';
import { chosenConfig, ourKeepalived, parseKeepalivedArgs } from '../probes/keepalived.js';
import { configFileProbeId } from './files.js';
import type { ProbeRecord } from '../types.js';
import type { Loc } from './model.js';
import { snapshotReader } from './snapshot-reader.js';
import { readSyntax, type Statement } from './syntax.js';
import { PROBE_HOSTNAME } from '../probes/ids.js';

export interface ConfigRoute {
  /** the line as written */
  raw: string;
  /** destination as written ("default", "0.0.0.0/0", "10.1.0.0/16"), or the `src`-only form's address */
  dst: string;
  via?: string;
  dev?: string;
  table?: string;
  metric?: number;
  /** blackhole/unreachable/prohibit routes */
  type?: string;
  loc: Loc;
}

export interface InstanceExtras {
  name: string;
  loc: Loc;
  /** use_vmac: the interface name given, or vrrp.VRID */
  vmac?: { ifname: string; loc: Loc };
  vmacXmitBase: boolean;
  /** notify_master_rx_lower_pri: re-run notify_master when a lower-priority advert forces a new election */
  notifyMasterRxLowerPri: boolean;
  virtualRoutes: ConfigRoute[];
  /** track_process / track_file / track_bfd entries with their weights (0 or absent = FAULT) */
  otherTracks: Array<{ kind: string; name: string; weight?: number; loc: Loc }>;
  /** brd of each VIP as written, by address */
  vipBrd: Map<string, string>;
}

export interface ConfigExtras {
  instances: Map<string, InstanceExtras>;
  /** global_defs disable_local_igmp (keepalived keeps IGMP reports for 224.0.0.x off while it runs) */
  disableLocalIgmp: boolean;
  /** sync groups that set sync_group_tracking_weight */
  trackingWeightGroups: Set<string>;
  staticRoutes: ConfigRoute[];
  /** static_ipaddress entries: address (no prefix) with their location */
  staticAddresses: Array<{ address: string; prefix: number; raw: string; loc: Loc }>;
}

const ROUTE_TYPES = new Set(['blackhole', 'unreachable', 'prohibit', 'throw', 'local', 'unicast']);

/** A virtual_routes / static_routes line: "[type] DST [via|gw GW] [dev IF] [table T] [metric N] ...",
 *  or keepalived's old "src ADDR to DST via GW dev IF" form. */
export function parseRouteLine(words: string[], loc: Loc): ConfigRoute | undefined {
  const rest = [...words];
  const r: Partial<ConfigRoute> = { raw: words.join(' '), loc };
  if (ROUTE_TYPES.has(rest[0] ?? '')) r.type = rest.shift()!;
  if (rest[0] === 'src' && rest[2] === 'to') rest.splice(0, 3, rest[3] ?? '');
  else if (rest[0] === 'to') rest.shift();
  const dst = rest.shift();
  if (!dst) return undefined;
  r.dst = dst;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    const v = rest[i + 1];
    if (v === undefined) break;
    if (w === 'via' || w === 'gw') r.via = v;
    else if (w === 'dev' || w === 'oif') r.dev = v;
    else if (w === 'table') r.table = v;
    else if (w === 'metric' || w === 'preference' || w === 'priority') r.metric = Number(v);
    else continue;
    i++;
  }
  return r as ConfigRoute;
}

function routesOf(s: Statement): ConfigRoute[] {
  return (s.children ?? []).flatMap((c) => {
    const r = parseRouteLine([c.keyword, ...c.args.map((a) => a.text)], c.loc);
    return r ? [r] : [];
  });
}

function instanceExtras(s: Statement): InstanceExtras {
  const ex: InstanceExtras = {
    name: s.args[0]?.text ?? '',
    loc: s.loc,
    vmacXmitBase: false,
    notifyMasterRxLowerPri: false,
    virtualRoutes: [],
    otherTracks: [],
    vipBrd: new Map(),
  };
  let vrid: string | undefined;
  let vmacName: string | undefined;
  let vmacLoc: Loc | undefined;
  for (const c of s.children ?? []) {
    switch (c.keyword) {
      case 'virtual_router_id':
        vrid = c.args[0]?.text;
        break;
      case 'use_vmac':
        vmacLoc = c.loc;
        vmacName = c.args[0]?.text;
        break;
      case 'vmac_xmit_base':
        ex.vmacXmitBase = true;
        break;
      case 'notify_master_rx_lower_pri':
        ex.notifyMasterRxLowerPri = true;
        break;
      case 'virtual_routes':
        ex.virtualRoutes.push(...routesOf(c));
        break;
      case 'track_process':
      case 'track_file':
      case 'track_bfd':
        for (const t of c.children ?? []) {
          const i = t.args.findIndex((a) => a.text === 'weight');
          const w = i >= 0 ? Number(t.args[i + 1]?.text) : undefined;
          ex.otherTracks.push({ kind: c.keyword, name: t.keyword, ...(w !== undefined && Number.isFinite(w) ? { weight: w } : {}), loc: t.loc });
        }
        break;
      case 'virtual_ipaddress':
        for (const v of c.children ?? []) {
          const i = v.args.findIndex((a) => a.text === 'brd' || a.text === 'broadcast');
          if (i >= 0 && v.args[i + 1]) ex.vipBrd.set(v.keyword.split('/')[0]!, v.args[i + 1]!.text);
        }
        break;
    }
  }
  if (vmacLoc) ex.vmac = { ifname: vmacName ?? `vrrp.${vrid ?? '?'}`, loc: vmacLoc };
  return ex;
}

export function extrasFromStatements(statements: Statement[]): ConfigExtras {
  const out: ConfigExtras = { instances: new Map(), disableLocalIgmp: false, trackingWeightGroups: new Set(), staticRoutes: [], staticAddresses: [] };
  for (const s of statements) {
    if (s.keyword === 'vrrp_instance') {
      const ex = instanceExtras(s);
      out.instances.set(ex.name, ex);
    } else if (s.keyword === 'global_defs') {
      if ((s.children ?? []).some((c) => c.keyword === 'disable_local_igmp')) out.disableLocalIgmp = true;
    } else if (s.keyword === 'vrrp_sync_group') {
      if ((s.children ?? []).some((c) => c.keyword === 'sync_group_tracking_weight')) out.trackingWeightGroups.add(s.args[0]?.text ?? '');
    } else if (s.keyword === 'static_routes') {
      out.staticRoutes.push(...routesOf(s));
    } else if (s.keyword === 'static_ipaddress') {
      for (const c of s.children ?? []) {
        const [address, prefix] = c.keyword.split('/');
        if (address)
          out.staticAddresses.push({
            address,
            prefix: prefix === undefined ? (address.includes(':') ? 128 : 32) : Number(prefix),
            raw: [c.keyword, ...c.args.map((a) => a.text)].join(' '),
            loc: c.loc,
          });
      }
    }
  }
  return out;
}

/** The extras of the config a snapshot's records hold (the same file choice and config id as the model). */
export function extrasFromRecords(records: Readonly<Record<string, ProbeRecord>>, override: string | undefined): ConfigExtras | undefined {
  const { path } = chosenConfig(records, override);
  if (records[configFileProbeId(path)]?.status !== 'ok') return undefined;
  const proc = ourKeepalived(records);
  const hostname = records[PROBE_HOSTNAME]?.status === 'ok' ? records[PROBE_HOSTNAME]!.stdout.trim() : undefined;
  const configId = (proc && parseKeepalivedArgs(proc.argv).configId) ?? hostname;
  try {
    return extrasFromStatements(readSyntax(path, snapshotReader(records), configId ? { configId } : {}).statements);
  } catch {
    return undefined;
  }
}

/** This node's config extras, once per analysis. */
export function configExtras(ctx: CheckContext): ConfigExtras | undefined {
  return ctx.memo('keepalived-config-extras', () => extrasFromRecords(ctx.snapshot.probes, ctx.snapshot.options.config));
}
