// The shared vocabulary of the pipeline: probes → snapshot → checks → findings → views.
// Nothing in this file does I/O.
import type { ProbeId } from './probes/ids.js';
import type { FindingCode } from './codes.js';

export type Severity = 'info' | 'warning' | 'error' | 'critical';
export const SEVERITY_ORDER: Record<Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 };

// ---------------------------------------------------------------- probes

/** What a probe asks of the host. Probes are data; src/probes/run.ts executes them. */
export type ProbeSpec =
  | {
      id: ProbeId;
      kind: 'command';
      argv: string[];
      /** default 3000 ms */
      timeoutMs?: number;
      needsRoot?: boolean;
      /** stdout is cut to this many bytes (the tail is kept when tail is true) */
      maxBytes?: number;
      tail?: boolean;
    }
  | {
      id: ProbeId;
      /** file: content in stdout; dir: JSON array of entry names in stdout;
       *  stat: JSON FileStat in stdout (lstat of the path and of its parent dir) */
      kind: 'file' | 'dir' | 'stat';
      path: string;
      needsRoot?: boolean;
      maxBytes?: number;
      /** read the last maxBytes of the file rather than the first */
      tail?: boolean;
      /** default 3000 ms (file reads too: a hung mount must not hang the doctor) */
      timeoutMs?: number;
      /** the path comes from host text (a config include, a script, a log path from argv): it must
       *  be a regular file on a disk filesystem, never a FIFO, device, /proc or /sys file */
      hostPath?: boolean;
    }
  | {
      id: ProbeId;
      /** computed in-process (e.g. /proc walk); the function lives in the provider */
      kind: 'internal';
      run: () => Promise<string>;
      timeoutMs?: number;
      needsRoot?: boolean;
    };

/**
 * ok: it ran (for commands, whatever the exit status: read exitCode);
 * missing: binary or file does not exist; denied: permission; timeout; skipped: not attempted
 * (needs root, or option off); error: anything else.
 */
export type ProbeStatus = 'ok' | 'missing' | 'denied' | 'timeout' | 'skipped' | 'error';

export interface ProbeRecord {
  id: string;
  kind: 'command' | 'file' | 'dir' | 'stat' | 'internal';
  argv?: string[];
  path?: string;
  status: ProbeStatus;
  exitCode?: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** why it did not run or did not finish, in words */
  reason?: string;
  truncated?: boolean;
}

export interface FileStat {
  exists: boolean;
  isFile: boolean;
  isDir: boolean;
  isSymlink: boolean;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  /** the same for the parent directory (script security looks at every parent) */
  parents: Array<{ path: string; mode: number; uid: number; gid: number }>;
}

/** Options that shape what the probes collect; recorded in the snapshot. */
export interface CollectOptions {
  /** --config: keepalived.conf to read instead of the running process's */
  config?: string;
  /** --peer-config: the other node's keepalived.conf, for pair consistency */
  peerConfig?: string;
  /** --peer-snapshot: the other node's `hagw-doctor snapshot`, for pair consistency and MTUs */
  peerSnapshot?: string;
  /** --peer [USER@]HOST: the other node, probed over SSH and embedded as the peer-snapshot probe */
  peer?: string;
  /** --wire: listen for VRRP adverts on the wire */
  wire?: boolean;
  /** listen window for --wire, seconds */
  wireSeconds?: number;
  /** --conntrack-walk: allow a full walk of the conntrack table (slow on busy gateways) */
  conntrackWalk?: boolean;
  /** --since for log timelines, e.g. "24h" */
  since?: string;
  /** set on a snapshot whose secrets were replaced by their tokens (see src/secrets.ts), or kept (--include-secrets) */
  secrets?: 'redacted' | 'included';
}

/** A source of probes. probes() is called in rounds with the records so far, until no provider
 *  returns a probe id not yet run, so a provider can derive probes from earlier results
 *  (config includes, per-peer conntrack lookups, per-interface ethtool). Must be pure. */
export interface ProbeProvider {
  name: string;
  probes(ctx: ProbeRoundContext): ProbeSpec[];
}

export interface ProbeRoundContext {
  round: number;
  records: Readonly<Record<string, ProbeRecord>>;
  options: CollectOptions;
  isRoot: boolean;
}

/** The exit status of a report (Nagios convention): 0 OK, 1 WARNING, 2 CRITICAL (any error or
 *  critical finding), 3 UNKNOWN (could not run, or a core judgement could not be made). */
export function exitStatus(report: Pick<Report, 'summary'>): number {
  switch (report.summary.status) {
    case 'ok':
      return 0;
    case 'warning':
      return 1;
    case 'critical':
      return 2;
    default:
      return 3;
  }
}

// ---------------------------------------------------------------- snapshot

export const SNAPSHOT_SCHEMA = 'hagw-doctor.snapshot/v1';

/** A snapshot carried inside a probe record (the peer's, as `peer-snapshot`), or undefined when the
 *  text is not one. The snapshot was validated (src/snapshot-file.ts) when it was read from a file or
 *  from the peer's doctor; this light shape check keeps zod out of the check path. */
export function embeddedSnapshot(text: string | undefined): Snapshot | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as Partial<Snapshot> | null;
    return s?.schema === SNAPSHOT_SCHEMA && s.probes && typeof s.probes === 'object' && s.host && typeof s.host === 'object' ? (s as Snapshot) : undefined;
  } catch {
    return undefined;
  }
}

export interface HostFacts {
  hostname: string;
  kernel: string;
  os: string;
  keepalived: string | null;
  /** inode of /proc/self/ns/net, e.g. "net:[4026531840]", plus the name when `ip netns identify` knows it */
  netns: string;
  uid: number;
}

export interface Snapshot {
  schema: typeof SNAPSHOT_SCHEMA;
  createdAt: string;
  tool: { name: string; version: string };
  options: CollectOptions;
  host: HostFacts;
  probes: Record<string, ProbeRecord>;
}

// ---------------------------------------------------------------- findings

export interface Evidence {
  probe: string;
  excerpt: string;
}

/** One step of a fix. Never a shell string. */
export type FixStep =
  | {
      argv: string[];
      /** how to undo this step, as argv commands run in order; omitted: restored from backup */
      undo?: string[][];
      /** a step whose failure is tolerated (e.g. deleting conntrack entries that already expired) */
      optional?: boolean;
      why?: string;
      /** an iptables rule edit named by content: the change engine checks it (-C) and resolves any
       *  position at apply time, under its lock; argv/undo then only show the intent */
      rule?: RuleEdit;
    }
  | {
      /** write (create or replace) a file with exactly this content */
      write: { path: string; content: string; mode?: number };
      why?: string;
    }
  | {
      remove: { path: string };
      why?: string;
    };

/** An iptables rule edit by content (see FixStep.rule). */
export interface RuleEdit {
  /** iptables, iptables-legacy, iptables-nft, ip6tables... */
  bin: string;
  table: string;
  chain: string;
  /** insert: at the top, or just before `before`; append: at the end; delete: this rule;
   *  replace: this rule by `with`, in its place */
  op: 'insert' | 'append' | 'delete' | 'replace';
  /** the rule after "-A CHAIN", as iptables-save prints it */
  spec: string[];
  with?: string[];
  before?: string[];
}

/** What a plan touches, so the change engine can back it up before the first step. */
export interface FixTouches {
  /** iptables tables (nat, filter, raw, mangle) to save before and restore on undo */
  iptables?: string[];
  /** nft ruleset */
  nft?: boolean;
  /** sysctl keys, e.g. net.ipv4.ip_forward */
  sysctl?: string[];
  /** files written or removed */
  files?: string[];
  /** ip rules and routes */
  routes?: boolean;
  /** conntrack entries cannot be restored; listed so the preview says so */
  conntrack?: boolean;
}

export interface FixPlan {
  summary: string;
  risk: 'safe' | 'disruptive';
  steps: FixStep[];
  touches: FixTouches;
  /** whether the fix survives a reboot, and how (or why not) */
  persistence: { persistent: boolean; how: string };
  /** finding codes that must be gone after the fix for it to count as success */
  verifies: FindingCode[];
}

export interface Finding {
  code: FindingCode;
  severity: Severity;
  title: string;
  detail: string;
  evidence: Evidence[];
  fix?: FixPlan;
  /** FILE:LINE where a config is at fault */
  location?: { file: string; line?: number };
  /** the VRRP instance (or interface, table...) concerned, when there is one */
  subject?: string;
  /** which node the finding concerns: "local", or the peer's name as given (--peer) */
  node?: string;
}

// ---------------------------------------------------------------- checks

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'error';

export interface CheckRun {
  id: string;
  status: CheckStatus;
  ms: number;
  reason?: string;
  /** skipped or errored because it could not look (a probe failed, timed out, or needs root), not because it does not apply */
  blind?: boolean;
}

/** A check that could not judge: why, and whether it is one of the core judgements (keepalived found, VRRP state, the adverts' firewall path). */
export interface NotJudged {
  check: string;
  reason: string;
  core: boolean;
}

export type Role = 'master' | 'backup' | 'fault' | 'unknown';

export interface InstanceState {
  name: string;
  /** virtual_router_id and interface from the config: with the VIPs they identify the pair */
  vrid?: number;
  interface?: string;
  state: 'MASTER' | 'BACKUP' | 'FAULT' | 'INIT' | 'STOP' | 'UNKNOWN';
  /** which source decided: data-dump, log, vip-presence */
  source: string;
  /** when the latest transition happened, when the log says (as the log writes it) */
  since?: string;
  /** the same moment in ISO 8601 with the zone offset, when the log line's time could be read (additive to v1) */
  sinceIso?: string;
  vips: string[];
  vipsHeld: string[];
  /** another source says otherwise (the log, or the dump against the addresses): no fix is premised on this state */
  contested?: string;
}

export interface Report {
  schema: 'hagw-doctor.report/v1';
  host: { hostname: string; kernel: string; keepalived: string | null; netns: string };
  role: Role;
  instances: InstanceState[];
  summary: {
    status: 'ok' | 'warning' | 'critical' | 'unknown';
    critical: number;
    error: number;
    warning: number;
    info: number;
    /** checks that could not judge (errored, or skipped because a probe failed, timed out or needs root) */
    notJudged?: NotJudged[];
  };
  findings: Finding[];
  checks: CheckRun[];
  /** where the snapshot came from: live, or the file given with --from */
  source: string;
  /** what kind of keepalived host this is (inferred, or --kind), with the evidence */
  kind?: HostKind;
  kindEvidence?: string[];
  /** the other node, when one was asked for (--peer, --peer-snapshot) */
  peer?: PeerStatus;
}

/** gateway: routes (SNAT, LVS-NAT) for clients behind a VIP; director: LVS-DR/TUN; vip: a floating service VIP */
export type HostKind = 'gateway' | 'director' | 'vip';

export interface PeerStatus {
  host: string;
  reachable: boolean;
  reason?: string;
  via: 'ssh' | 'snapshot';
  /** the peer's own hostname, role and instances (side-by-side views), when it was read */
  hostname?: string;
  role?: Role;
  instances?: InstanceState[];
}
