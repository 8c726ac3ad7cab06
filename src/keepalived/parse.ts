// keepalived.conf -> the typed model (model.ts). Never throws: anything it cannot understand becomes
// a diagnostic (with FILE:LINE) or an entry of config.unknown. Syntax lives in syntax.ts.
// Accepts keepalived 1.x and 2.x spellings (lvs_sched/lb_algo, lvs_method/lb_kind, nb_get_retry/retry...).
import { authPassLength } from '../secrets.js';
import ipaddr from 'ipaddr.js';
import { readSyntax, type Arg, type Statement } from './syntax.js';
import type {
  Authentication,
  ConfigSourceReader,
  Diagnostic,
  GlobalDefs,
  HealthCheck,
  KeepalivedConfig,
  LocalAddressGroup,
  Loc,
  NotifyScripts,
  ParseOptions,
  ParseResult,
  RealServer,
  ScriptRef,
  TrackScriptRef,
  UnknownKeyword,
  VirtualAddress,
  VirtualServer,
  VrrpInstance,
  VrrpScript,
  VrrpSyncGroup,
} from './model.js';

export function parseKeepalivedConfig(mainPath: string, reader: ConfigSourceReader, opts: ParseOptions = {}): ParseResult {
  const config: KeepalivedConfig = {
    files: [],
    globalDefs: { enableScriptSecurity: false, vrrpStrict: false },
    vrrpInstances: [],
    vrrpSyncGroups: [],
    vrrpScripts: [],
    virtualServers: [],
    localAddressGroups: [],
    unknown: [],
  };
  const diagnostics: Diagnostic[] = [];
  try {
    const syntax = readSyntax(mainPath, reader, opts);
    config.files = syntax.files;
    for (const d of syntax.diagnostics) diagnostics.push(d);
    for (const u of syntax.unknown) config.unknown.push(u);
    new ModelBuilder(config, diagnostics).build(syntax.statements);
  } catch (err) {
    // a bug in the doctor must not become a crash of the whole report
    diagnostics.push({ severity: 'error', message: `internal parser error: ${(err as Error)?.message ?? String(err)}`, loc: { file: mainPath, line: 0 } });
  }
  // hostile input can produce one diagnostic per byte; a report needs the first few hundred
  if (diagnostics.length > MAX_DIAGNOSTICS) {
    const more = diagnostics.length - MAX_DIAGNOSTICS;
    diagnostics.length = MAX_DIAGNOSTICS;
    diagnostics.push({ severity: 'error', message: `${more} more problems not listed`, loc: diagnostics[MAX_DIAGNOSTICS - 1]!.loc });
  }
  return { config, diagnostics };
}

const MAX_DIAGNOSTICS = 500;

/** Keywords keepalived knows that the doctor does not model: accepted silently, per block. */
const KNOWN_GLOBAL = new Set([
  'notification_email',
  'notification_email_from',
  'smtp_server',
  'smtp_connect_timeout',
  'smtp_helo_name',
  'smtp_alert',
  'smtp_alert_vrrp',
  'smtp_alert_checker',
  'lvs_id',
  'lvs_sync_daemon',
  'lvs_flush',
  'lvs_timeouts',
  'dynamic_interfaces',
  'vrrp_mcast_group4',
  'vrrp_mcast_group6',
  'vrrp_garp_master_delay',
  'vrrp_garp_master_repeat',
  'vrrp_garp_lower_prio_delay',
  'vrrp_garp_lower_prio_repeat',
  'vrrp_garp_interval',
  'vrrp_gna_interval',
  'vrrp_lower_prio_no_advert',
  'vrrp_higher_prio_send_advert',
  'vrrp_version',
  'vrrp_iptables',
  'vrrp_ipsets',
  'vrrp_nftables',
  'vrrp_check_unicast_src',
  'vrrp_skip_check_adv_addr',
  'vrrp_priority',
  'checker_priority',
  'bfd_priority',
  'vrrp_no_swap',
  'checker_no_swap',
  'max_auto_priority',
  'min_auto_priority_delay',
  'script_user',
  'notify_fifo',
  'notify_fifo_script',
  'vrrp_notify_fifo',
  'vrrp_notify_fifo_script',
  'lvs_notify_fifo',
  'lvs_notify_fifo_script',
  'linkbeat_use_polling',
  'net_namespace',
  'instance',
  'use_pid_dir',
  'process_names',
  'process_name',
  'vrrp_process_name',
  'checker_process_name',
  'bfd_process_name',
  'enable_traps',
  'enable_snmp_vrrp',
  'enable_snmp_checker',
  'enable_snmp_rfc',
  'enable_dbus',
  'vrrp_netlink_cmd_rcv_bufs',
  'vrrp_netlink_monitor_rcv_bufs',
  'vrrp_startup_delay',
  'vrrp_rx_bufs_policy',
  'vrrp_rx_bufs_multiplier',
  'vrrp_min_garp',
  'random_seed',
  'vrrp_mcast_group',
  'ip_addr',
  'startup_script',
  'shutdown_script',
  'fifo_write_vrrp_states_on_reload',
  'vrrp_strict',
  'enable_script_security',
  'router_id',
  'vrrp_garp_master_refresh',
  'vrrp_garp_master_refresh_repeat',
  'default_interface',
  'nftables_priority',
  'nftables_ifindex',
  'nftables_counters',
  'umask',
  'no_checker_emails',
  'vrrp_track_process',
  'reload_check_config',
  'config_save_dir',
  'tmp_config_directory',
]);
const KNOWN_INSTANCE = new Set([
  'dont_track_primary',
  'track_process',
  'track_file',
  'track_bfd',
  'mcast_src_ip',
  'lvs_sync_daemon_interface',
  'garp_master_delay',
  'garp_master_repeat',
  'garp_lower_prio_delay',
  'garp_lower_prio_repeat',
  'garp_master_refresh_repeat',
  'lower_prio_no_advert',
  'higher_prio_send_advert',
  'smtp_alert',
  'use_vmac',
  'vmac_xmit_base',
  'native_ipv6',
  'accept',
  'no_accept',
  'skip_check_adv_addr',
  'strict_mode',
  'check_unicast_src',
  'unicast_ttl',
  'old_unicast_checksum',
  'debug',
  'virtual_routes',
  'virtual_rules',
  'linkbeat_use_polling',
  'notify_master_rx_lower_pri',
  'kernel_rx_buf_size',
  'unicast_fault_no_peer',
  'ipsets',
  'promote_secondaries',
  'mcast_dst_ip',
  'vrrp_version',
  'version',
  'preempt',
  'preempt_delay',
  'garp_master_refresh',
  'track_interface',
  'track_script',
  'virtual_ipaddress_excluded',
  'sync_group_tracking_weight',
]);

const NOTIFY_KEYS: Record<string, keyof NotifyScripts> = {
  notify: 'notify',
  notify_master: 'master',
  notify_backup: 'backup',
  notify_fault: 'fault',
  notify_stop: 'stop',
  notify_deleted: 'deleted',
};

class ModelBuilder {
  constructor(
    private readonly config: KeepalivedConfig,
    private readonly diagnostics: Diagnostic[],
  ) {}

  private err(loc: Loc, message: string): void {
    this.diagnostics.push({ severity: 'error', message, loc });
  }
  private warn(loc: Loc, message: string): void {
    this.diagnostics.push({ severity: 'warning', message, loc });
  }
  private unknown(s: Statement, context: string): void {
    const u: UnknownKeyword = { keyword: s.keyword, context, loc: s.loc };
    this.config.unknown.push(u);
  }

  build(top: Statement[]): void {
    for (const s of top) {
      switch (s.keyword) {
        case 'global_defs':
          this.globalDefs(s);
          break;
        case 'vrrp_instance':
          this.config.vrrpInstances.push(this.instance(s));
          break;
        case 'vrrp_sync_group':
          this.config.vrrpSyncGroups.push(this.syncGroup(s));
          break;
        case 'vrrp_script':
          this.config.vrrpScripts.push(this.vrrpScript(s));
          break;
        case 'virtual_server':
          this.config.virtualServers.push(this.virtualServer(s));
          break;
        case 'local_address_group':
          this.config.localAddressGroups.push(this.localAddressGroup(s));
          break;
        // known top-level blocks the doctor does not model
        case 'static_ipaddress':
        case 'static_routes':
        case 'static_rules':
        case 'virtual_server_group':
        case 'linkbeat_interfaces':
        case 'garp_group':
        case 'track_file':
        case 'vrrp_track_file':
        case 'track_process':
        case 'vrrp_track_process':
        case 'bfd_instance':
        case 'net_namespace':
        case 'net_namespace_ipvs':
        case 'instance':
        case 'use_pid_dir':
        case 'linkbeat_use_polling':
          break;
        default:
          this.unknown(s, 'top level');
      }
    }
    this.crossChecks();
  }

  private globalDefs(s: Statement): void {
    const g: GlobalDefs = this.config.globalDefs;
    g.loc = s.loc;
    for (const c of s.children ?? []) {
      const v = c.args[0]?.text;
      switch (c.keyword) {
        case 'router_id':
          g.routerId = v;
          break;
        case 'enable_script_security':
          g.enableScriptSecurity = true;
          break;
        case 'script_user':
          g.scriptUser = v;
          break;
        case 'vrrp_strict':
          g.vrrpStrict = true;
          break;
        case 'vrrp_version': {
          const n = this.int(c, 2, 3, 'vrrp_version');
          if (n === 2 || n === 3) g.vrrpVersion = n;
          break;
        }
        case 'vrrp_garp_master_refresh':
          g.vrrpGarpMasterRefresh = this.int(c, 0, Number.MAX_SAFE_INTEGER);
          break;
        case 'default_interface':
          g.defaultInterface = v;
          break;
        default:
          if (!KNOWN_GLOBAL.has(c.keyword)) this.unknown(c, 'global_defs');
      }
    }
  }

  private instance(s: Statement): VrrpInstance {
    const vi: VrrpInstance = {
      name: s.args[0]?.text ?? '',
      loc: s.loc,
      nopreempt: false,
      unicastPeers: [],
      unicastKeywords: false,
      virtualIpaddresses: [],
      virtualIpaddressesExcluded: [],
      trackInterfaces: [],
      trackScripts: [],
      notify: {},
    };
    if (!vi.name) this.err(s.loc, 'vrrp_instance without a name');
    if (!s.children) this.err(s.loc, `vrrp_instance ${vi.name} has no { } block`);
    const ctx = `vrrp_instance ${vi.name}`;
    let vridSeen = false;
    for (const c of s.children ?? []) {
      const v = c.args[0]?.text;
      switch (c.keyword) {
        case 'state':
          if (v === 'MASTER' || v === 'BACKUP') vi.state = v;
          else this.err(c.loc, `(${vi.name}) unknown state '${v ?? ''}': MASTER or BACKUP`);
          break;
        case 'interface':
          if (v) vi.interface = v;
          else this.err(c.loc, `(${vi.name}) interface without a name`);
          break;
        case 'virtual_router_id':
          vridSeen = true;
          vi.virtualRouterId = this.int(c, 1, 255, `(${vi.name}) VRID`);
          break;
        case 'priority':
          vi.priority = this.int(c, 1, 255, `(${vi.name}) priority`);
          break;
        case 'advert_int': {
          const n = this.num(c, 0.01, 255, `(${vi.name}) advert_int`);
          if (n !== undefined) vi.advertInt = n;
          break;
        }
        case 'nopreempt':
          vi.nopreempt = true;
          break;
        case 'preempt':
          vi.nopreempt = false;
          break;
        case 'preempt_delay':
          vi.preemptDelay = this.num(c, 0, 1000);
          break;
        case 'authentication':
          vi.authentication = this.authentication(c, vi.name);
          break;
        case 'unicast_src_ip':
          vi.unicastKeywords = true;
          if (v && this.isIp(v)) vi.unicastSrcIp = v;
          else this.err(c.loc, `(${vi.name}) unicast_src_ip '${v ?? ''}' is not an IP address`);
          break;
        case 'unicast_peer':
          vi.unicastKeywords = true;
          for (const p of c.children ?? []) {
            // each line: ADDR [min_ttl N] [max_ttl N]
            if (this.isIp(p.keyword)) vi.unicastPeers.push({ address: p.keyword, loc: p.loc });
            else this.err(p.loc, `(${vi.name}) unicast_peer '${p.keyword}' is not an IP address`);
          }
          if (!c.children) this.err(c.loc, `(${vi.name}) unicast_peer needs a { } block of addresses`);
          break;
        case 'mcast_src_ip':
          if (v && this.isIp(v)) vi.mcastSrcIp = v;
          else this.err(c.loc, `(${vi.name}) mcast_src_ip '${v ?? ''}' is not an IP address`);
          break;
        case 'virtual_ipaddress':
          for (const v of this.vips(c, vi.name)) vi.virtualIpaddresses.push(v);
          break;
        case 'virtual_ipaddress_excluded':
          for (const v of this.vips(c, vi.name)) vi.virtualIpaddressesExcluded.push(v);
          break;
        case 'track_interface':
          for (const t of c.children ?? []) {
            const w = this.weightOf(t.args, t.loc);
            vi.trackInterfaces.push({ name: t.keyword, ...(w !== undefined ? { weight: w } : {}), loc: t.loc });
          }
          break;
        case 'track_script':
          for (const t of this.trackScripts(c)) vi.trackScripts.push(t);
          break;
        case 'garp_master_refresh':
          vi.garpMasterRefresh = this.int(c, 0, Number.MAX_SAFE_INTEGER);
          break;
        case 'accept':
          vi.accept = true;
          break;
        case 'no_accept':
          vi.accept = false;
          break;
        case 'strict_mode':
          // "strict_mode" alone or "strict_mode on|true|yes"
          vi.strictMode = v === undefined || /^(on|true|yes)$/i.test(v);
          break;
        case 'version':
        case 'vrrp_version': {
          const n = this.int(c, 2, 3, `(${vi.name}) version`);
          if (n === 2 || n === 3) vi.version = n;
          break;
        }
        default:
          if (NOTIFY_KEYS[c.keyword]) {
            const ref = this.scriptRef(c);
            if (ref) vi.notify[NOTIFY_KEYS[c.keyword]!] = ref;
          } else if (!KNOWN_INSTANCE.has(c.keyword)) this.unknown(c, ctx);
      }
    }
    if (s.children) {
      if (!vridSeen) this.err(s.loc, `(${vi.name}) the virtual router id must be set`);
      if (!vi.interface && !this.config.globalDefs.defaultInterface) this.err(s.loc, `(${vi.name}) no interface given`);
      if (vi.virtualIpaddresses.length === 0) this.warn(s.loc, `(${vi.name}) no VIP specified; at least one is sensible`);
      if (vi.unicastKeywords && vi.unicastPeers.length === 0)
        this.diagnostics.push({
          severity: 'warning',
          kind: 'unicast-without-peers',
          message: `(${vi.name}) a unicast keyword is given without any unicast peer: keepalived falls back to multicast`,
          loc: s.loc,
        });
    }
    return vi;
  }

  private authentication(s: Statement, name: string): Authentication {
    const a: Authentication = { type: '', loc: s.loc };
    for (const c of s.children ?? []) {
      const v = c.args[0]?.text;
      if (c.keyword === 'auth_type') {
        if (v === 'PASS' || v === 'AH') a.type = v;
        else {
          a.type = v ?? '';
          this.err(c.loc, `(${name}) unknown auth_type '${v ?? ''}': PASS or AH`);
        }
      } else if (c.keyword === 'auth_pass') {
        a.pass = v ?? '';
        // keepalived keeps the first 8 characters and logs "Truncating auth_pass to 8 characters"
        if (authPassLength(a.pass) > 8)
          this.diagnostics.push({
            severity: 'warning',
            kind: 'auth-pass-truncated',
            message: `(${name}) auth_pass is longer than 8 characters: keepalived truncates it`,
            loc: c.loc,
          });
      } else this.unknown(c, `authentication of ${name}`);
    }
    return a;
  }

  private vips(s: Statement, name: string): VirtualAddress[] {
    const out: VirtualAddress[] = [];
    for (const c of s.children ?? []) {
      const words = [c.keyword, ...c.args.map((a) => a.text)];
      const raw = words.join(' ');
      const [addrText, prefixText] = c.keyword.split('/');
      const v6 = addrText?.includes(':');
      const max = v6 ? 128 : 32;
      const prefix = prefixText === undefined ? max : /^\d+$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!addrText || !this.isIp(addrText) || !(prefix >= 0 && prefix <= max)) {
        this.err(c.loc, `(${name}) invalid virtual IP '${c.keyword}': keepalived skips it`);
        continue;
      }
      const va: VirtualAddress = { address: addrText, prefix, raw, loc: c.loc };
      for (let i = 1; i < words.length; i++) {
        if (words[i] === 'dev' && words[i + 1]) va.dev = words[++i];
        else if (words[i] === 'label' && words[i + 1]) va.label = words[++i];
      }
      out.push(va);
    }
    return out;
  }

  private trackScripts(s: Statement): TrackScriptRef[] {
    return (s.children ?? []).map((t) => {
      const w = this.weightOf(t.args, t.loc);
      return { name: t.keyword, ...(w !== undefined ? { weight: w } : {}), loc: t.loc };
    });
  }

  private weightOf(args: Arg[], loc: Loc): number | undefined {
    const i = args.findIndex((a) => a.text === 'weight');
    if (i < 0) return undefined;
    const n = Number(args[i + 1]?.text);
    if (!Number.isInteger(n) || n < -254 || n > 254) {
      this.err(loc, `weight '${args[i + 1]?.text ?? ''}' outside range [-254, 254]`);
      return undefined;
    }
    return n;
  }

  private syncGroup(s: Statement): VrrpSyncGroup {
    const g: VrrpSyncGroup = { name: s.args[0]?.text ?? '', loc: s.loc, members: [], notify: {}, trackScripts: [] };
    for (const c of s.children ?? []) {
      if (c.keyword === 'group') for (const m of c.children ?? []) for (const name of [m.keyword, ...m.args.map((a) => a.text)]) g.members.push(name);
      else if (c.keyword === 'track_script') for (const t of this.trackScripts(c)) g.trackScripts.push(t);
      else if (NOTIFY_KEYS[c.keyword]) {
        const ref = this.scriptRef(c);
        if (ref) g.notify[NOTIFY_KEYS[c.keyword]!] = ref;
      } else if (
        ![
          'smtp_alert',
          'global_tracking',
          'sync_group_tracking_weight',
          'track_interface',
          'track_file',
          'track_process',
          'track_bfd',
          'notify_priority_changes',
        ].includes(c.keyword)
      )
        this.unknown(c, `vrrp_sync_group ${g.name}`);
    }
    return g;
  }

  private vrrpScript(s: Statement): VrrpScript {
    const vs: VrrpScript = { name: s.args[0]?.text ?? '', loc: s.loc };
    for (const c of s.children ?? []) {
      switch (c.keyword) {
        case 'script': {
          const ref = this.scriptRef(c);
          if (ref) vs.script = ref;
          break;
        }
        case 'interval':
          vs.interval = this.num(c, 0, Number.MAX_SAFE_INTEGER);
          break;
        case 'timeout':
          vs.timeout = this.num(c, 0, Number.MAX_SAFE_INTEGER);
          break;
        case 'weight':
          vs.weight = this.int(c, -254, 254, `(${vs.name}) weight`);
          break;
        case 'fall':
          vs.fall = this.int(c, 1, Number.MAX_SAFE_INTEGER);
          break;
        case 'rise':
          vs.rise = this.int(c, 1, Number.MAX_SAFE_INTEGER);
          break;
        case 'user':
          vs.user = c.args[0]?.text;
          break;
        case 'init_fail':
          break;
        default:
          this.unknown(c, `vrrp_script ${vs.name}`);
      }
    }
    if (!vs.script) this.err(s.loc, `vrrp_script ${vs.name} has no script`);
    return vs;
  }

  /** notify_* / script: `"cmd args"` or `cmd` followed by an optional user [group]. */
  private scriptRef(s: Statement): ScriptRef | undefined {
    const first = s.args[0];
    if (!first || !first.text) {
      this.err(s.loc, `${s.keyword} without a script`);
      return undefined;
    }
    const words = splitCommand(first.text);
    const ref: ScriptRef = { command: first.text, path: words[0] ?? '', args: words.slice(1), loc: s.loc };
    if (s.args[1]) ref.user = s.args[1].text;
    return ref;
  }

  private virtualServer(s: Statement): VirtualServer {
    const vs: VirtualServer = { realServers: [], loc: s.loc };
    const [a0, a1] = s.args.map((a) => a.text);
    if (a0 === 'fwmark') vs.fwmark = Number(a1);
    else if (a0 === 'group') vs.group = a1;
    else if (a0 !== undefined) {
      vs.address = a0;
      if (!this.isIp(a0)) this.err(s.loc, `virtual_server address '${a0}' is not an IP address`);
      if (a1 !== undefined) {
        const p = Number(a1);
        if (Number.isInteger(p) && p >= 0 && p <= 65535) vs.port = p;
        else this.err(s.loc, `virtual_server port '${a1}' outside range [0, 65535]`);
      }
    } else this.err(s.loc, 'virtual_server without an address');
    const ctx = `virtual_server ${s.args.map((a) => a.text).join(' ')}`;
    for (const c of s.children ?? []) {
      const v = c.args[0]?.text;
      switch (c.keyword) {
        case 'lb_algo':
        case 'lvs_sched':
          vs.scheduler = v;
          break;
        case 'lb_kind':
        case 'lvs_method':
          vs.method = v;
          break;
        case 'persistence_timeout':
          vs.persistenceTimeout = this.int(c, 0, Number.MAX_SAFE_INTEGER);
          break;
        case 'protocol':
          vs.protocol = v;
          break;
        case 'delay_loop':
          vs.delayLoop = this.num(c, 0, Number.MAX_SAFE_INTEGER);
          break;
        case 'laddr_group_name':
          vs.laddrGroupName = v;
          break;
        case 'real_server':
          vs.realServers.push(this.realServer(c));
          break;
        case 'sorry_server':
        case 'sorry_server_inhibit':
        case 'persistence_granularity':
        case 'persistence_engine':
        case 'ha_suspend':
        case 'virtualhost':
        case 'alpha':
        case 'omega':
        case 'quorum':
        case 'quorum_up':
        case 'quorum_down':
        case 'hysteresis':
        case 'retry':
        case 'delay_before_retry':
        case 'warmup':
        case 'inhibit_on_failure':
        case 'ops':
        case 'one_packet_scheduling':
        case 'smtp_alert':
        case 'lb_flags':
        case 'lvs_flags':
        case 'ip_family':
        case 'syn_proxy':
          break;
        default:
          this.unknown(c, ctx);
      }
    }
    return vs;
  }

  private realServer(s: Statement): RealServer {
    const [a0, a1] = s.args.map((a) => a.text);
    const rs: RealServer = { address: a0 ?? '', inhibitOnFailure: false, checks: [], loc: s.loc };
    if (!a0 || !this.isIp(a0)) this.err(s.loc, `real_server address '${a0 ?? ''}' is not an IP address`);
    if (a1 !== undefined) {
      const p = Number(a1);
      if (Number.isInteger(p) && p >= 0 && p <= 65535) rs.port = p;
      else this.err(s.loc, `real_server port '${a1}' outside range [0, 65535]`);
    }
    for (const c of s.children ?? []) {
      switch (c.keyword) {
        case 'weight':
          rs.weight = this.int(c, 0, 65535);
          break;
        case 'inhibit_on_failure':
          rs.inhibitOnFailure = true;
          break;
        case 'TCP_CHECK':
        case 'HTTP_GET':
        case 'SSL_GET':
        case 'MISC_CHECK':
        case 'DNS_CHECK':
        case 'SMTP_CHECK':
        case 'UDP_CHECK':
        case 'PING_CHECK':
        case 'BFD_CHECK':
        case 'FILE_CHECK':
          rs.checks.push(this.healthCheck(c));
          break;
        case 'notify_up':
        case 'notify_down':
        case 'uthreshold':
        case 'lthreshold':
        case 'delay_loop':
        case 'alpha':
        case 'retry':
        case 'delay_before_retry':
        case 'warmup':
        case 'smtp_alert':
        case 'virtualhost':
        case 'lvs_method':
        case 'lb_kind':
          break;
        default:
          this.unknown(c, `real_server ${a0 ?? ''}`);
      }
    }
    return rs;
  }

  private healthCheck(s: Statement): HealthCheck {
    const hc: HealthCheck = { kind: s.keyword, urls: [], loc: s.loc };
    for (const c of s.children ?? []) {
      const v = c.args[0]?.text;
      switch (c.keyword) {
        case 'connect_ip':
          hc.connectIp = v;
          break;
        case 'connect_port':
          hc.connectPort = this.int(c, 0, 65535);
          break;
        case 'connect_timeout':
          hc.connectTimeout = this.num(c, 0, Number.MAX_SAFE_INTEGER);
          break;
        case 'url': {
          const u: HealthCheck['urls'][number] = {};
          for (const k of c.children ?? []) {
            const kv = k.args[0]?.text;
            if (k.keyword === 'path') u.path = kv;
            else if (k.keyword === 'digest') u.digest = kv;
            else if (k.keyword === 'status_code') u.statusCode = Number(kv);
            else if (k.keyword !== 'virtualhost' && k.keyword !== 'regex' && k.keyword !== 'regex_no_match' && k.keyword !== 'regex_options')
              this.unknown(k, `url of ${s.keyword}`);
          }
          hc.urls.push(u);
          break;
        }
        default:
          // the checkers have many tuning keywords (nb_get_retry, retry, delay_before_retry, bindto, misc_path...)
          break;
      }
    }
    return hc;
  }

  private localAddressGroup(s: Statement): LocalAddressGroup {
    const g: LocalAddressGroup = { name: s.args[0]?.text ?? '', entries: [], loc: s.loc };
    for (const c of s.children ?? []) g.entries.push([c.keyword, ...c.args.map((a) => a.text)].join(' '));
    return g;
  }

  private crossChecks(): void {
    const names = new Set(this.config.vrrpInstances.map((v) => v.name));
    const scripts = new Set(this.config.vrrpScripts.map((v) => v.name));
    const seen = new Map<string, VrrpInstance>();
    for (const vi of this.config.vrrpInstances) {
      const prev = seen.get(vi.name);
      if (prev) this.err(vi.loc, `vrrp instance ${vi.name} already defined (first at ${prev.loc.file}:${prev.loc.line})`);
      else seen.set(vi.name, vi);
      for (const t of vi.trackScripts) if (!scripts.has(t.name)) this.warn(t.loc, `(${vi.name}) track_script ${t.name} is not a defined vrrp_script`);
    }
    for (const g of this.config.vrrpSyncGroups)
      for (const m of g.members) if (!names.has(m)) this.err(g.loc, `virtual router ${m} named in sync group ${g.name} does not exist`);
    const groups = new Set(this.config.localAddressGroups.map((g) => g.name));
    for (const vs of this.config.virtualServers)
      if (vs.laddrGroupName && !groups.has(vs.laddrGroupName)) this.err(vs.loc, `laddr_group_name ${vs.laddrGroupName} names no local_address_group`);
  }

  private isIp(text: string): boolean {
    return ipaddr.IPv4.isValidFourPartDecimal(text) || (text.includes(':') && ipaddr.IPv6.isValid(text));
  }

  private int(s: Statement, min: number, max: number, what?: string): number | undefined {
    const n = this.num(s, min, max, what);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n)) {
      this.err(s.loc, `${what ?? s.keyword}: '${s.args[0]?.text ?? ''}' is not a whole number`);
      return undefined;
    }
    return n;
  }

  /** keepalived's wording: `number '352' outside range [1, 255]` */
  private num(s: Statement, min: number, max: number, what?: string): number | undefined {
    const text = s.args[0]?.text;
    if (text === undefined || text === '') {
      this.err(s.loc, `${what ?? s.keyword}: missing value`);
      return undefined;
    }
    const n = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
    if (Number.isNaN(n)) {
      this.err(s.loc, `${what ?? s.keyword}: '${text}' is not a number`);
      return undefined;
    }
    if (n < min || n > max) {
      this.err(s.loc, `number '${text}' outside range [${min}, ${max}]${what ? ` (${what})` : ''}`);
      return undefined;
    }
    return n;
  }
}

/** Split a script command line on spaces, honouring single and double quotes, as keepalived does. */
export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (const c of cmd) {
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === ' ' || c === '\t') {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}
