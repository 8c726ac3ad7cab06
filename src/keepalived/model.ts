// The typed model of a keepalived configuration. Every element keeps where it was written
// (file and line) so findings can point at FILE:LINE. Types only: src/keepalived/parse.ts builds it.

export interface Loc {
  file: string;
  line: number;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  loc: Loc;
  /** set on diagnostics a dedicated check reports under its own code (so they are not reported twice) */
  kind?: 'auth-pass-truncated' | 'unicast-without-peers';
}

export interface VirtualAddress {
  /** "10.0.0.254" */
  address: string;
  /** 32 when not written */
  prefix: number;
  dev?: string;
  label?: string;
  /** the line as written, e.g. "10.0.0.254/24 dev eth0 label eth0:vip" */
  raw: string;
  loc: Loc;
}

export interface Authentication {
  type: 'PASS' | 'AH' | string;
  pass?: string;
  loc: Loc;
}

export interface NotifyScripts {
  notify?: ScriptRef;
  master?: ScriptRef;
  backup?: ScriptRef;
  fault?: ScriptRef;
  stop?: ScriptRef;
  deleted?: ScriptRef;
}

export interface ScriptRef {
  /** the command line as written (keepalived splits it on spaces, honouring quotes) */
  command: string;
  /** the program: the first word */
  path: string;
  args: string[];
  /** run as this user (notify_* "user [group]" form) */
  user?: string;
  loc: Loc;
}

export interface TrackScriptRef {
  name: string;
  weight?: number;
  loc: Loc;
}

export interface VrrpInstance {
  name: string;
  loc: Loc;
  state?: 'MASTER' | 'BACKUP';
  interface?: string;
  virtualRouterId?: number;
  priority?: number;
  /** seconds; keepalived's default is 1 */
  advertInt?: number;
  nopreempt: boolean;
  preemptDelay?: number;
  authentication?: Authentication;
  unicastSrcIp?: string;
  unicastPeers: Array<{ address: string; loc: Loc }>;
  /** true when unicast_src_ip or a unicast_peer block is written, even if empty */
  unicastKeywords: boolean;
  mcastSrcIp?: string;
  virtualIpaddresses: VirtualAddress[];
  virtualIpaddressesExcluded: VirtualAddress[];
  trackInterfaces: Array<{ name: string; weight?: number; loc: Loc }>;
  trackScripts: TrackScriptRef[];
  notify: NotifyScripts;
  garpMasterRefresh?: number;
  version?: 2 | 3;
  /** `accept` (true) or `no_accept` (false) as written; undefined when neither */
  accept?: boolean;
  /** `strict_mode` [on|off] as written; undefined when not written */
  strictMode?: boolean;
}

export interface VrrpSyncGroup {
  name: string;
  loc: Loc;
  members: string[];
  notify: NotifyScripts;
  trackScripts: TrackScriptRef[];
}

export interface VrrpScript {
  name: string;
  loc: Loc;
  script?: ScriptRef;
  interval?: number;
  timeout?: number;
  weight?: number;
  fall?: number;
  rise?: number;
  user?: string;
}

export interface HealthCheck {
  kind: 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET' | 'MISC_CHECK' | 'DNS_CHECK' | 'SMTP_CHECK' | 'UDP_CHECK' | 'PING_CHECK' | string;
  connectIp?: string;
  connectPort?: number;
  connectTimeout?: number;
  urls: Array<{ path?: string; digest?: string; statusCode?: number }>;
  loc: Loc;
}

export interface RealServer {
  address: string;
  port?: number;
  weight?: number;
  inhibitOnFailure: boolean;
  checks: HealthCheck[];
  loc: Loc;
}

export interface VirtualServer {
  /** "203.0.113.10 443", "fwmark 1", or "group NAME" */
  address?: string;
  port?: number;
  fwmark?: number;
  group?: string;
  protocol?: string;
  /** lb_algo / lvs_sched */
  scheduler?: string;
  /** lb_kind / lvs_method, as written (case matters: keepalived wants upper case) */
  method?: string;
  persistenceTimeout?: number;
  /** laddr_group_name (dsnat / FNAT builds) */
  laddrGroupName?: string;
  delayLoop?: number;
  realServers: RealServer[];
  loc: Loc;
}

export interface LocalAddressGroup {
  name: string;
  /** addresses or ranges as written, e.g. "192.168.1.10-20" */
  entries: string[];
  loc: Loc;
}

export interface GlobalDefs {
  routerId?: string;
  enableScriptSecurity: boolean;
  scriptUser?: string;
  vrrpStrict: boolean;
  /** vrrp_version (global default of every instance's version) */
  vrrpVersion?: 2 | 3;
  vrrpGarpMasterRefresh?: number;
  /** default_interface: used by instances that name no interface */
  defaultInterface?: string;
  loc?: Loc;
}

/** A keyword the doctor does not model: kept, and reported as info, never fatal. */
export interface UnknownKeyword {
  keyword: string;
  context: string;
  loc: Loc;
}

export interface KeepalivedConfig {
  /** the main file and every file it included, in the order read */
  files: string[];
  globalDefs: GlobalDefs;
  vrrpInstances: VrrpInstance[];
  vrrpSyncGroups: VrrpSyncGroup[];
  vrrpScripts: VrrpScript[];
  virtualServers: VirtualServer[];
  localAddressGroups: LocalAddressGroup[];
  unknown: UnknownKeyword[];
}

export interface ParseResult {
  config: KeepalivedConfig;
  diagnostics: Diagnostic[];
}

export interface ParseOptions {
  /** keepalived's config id (-i, default: the host name) for `@id` / `@^id` lines; without it such
   *  lines are skipped and listed in config.unknown */
  configId?: string;
}

/** How the parser reads files: from the snapshot (checks) or from disk (generate, tests). */
export interface ConfigSourceReader {
  /** the content of a file, or undefined when it is missing/unreadable */
  readFile(path: string): string | undefined;
  /** the entry names of a directory, or undefined */
  listDir(path: string): string[] | undefined;
  /** why a file could not be read (refused as a FIFO, permission…), when the reader knows */
  why?(path: string): string | undefined;
}
