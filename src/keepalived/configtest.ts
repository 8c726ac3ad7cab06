// keepalived -t's messages, graded by what they mean. keepalived exits 5 on *any* message, a
// benign note included, and tags its own messages inconsistently (the harmless "Ignoring
// track_interface eth0 since own interface" is a CONFIG_GENERAL_ERROR), so neither the exit
// status nor keepalived's tag can decide. This table matches the message formats keepalived
// prints (report_config_error / log_message in its config parser, 2.0 to 2.3; the printf
// formats turned into patterns) and says what each means for the operator:
//
//   info         a note: keepalived applies a sensible default or drops a redundant setting
//   warning      the config works, but not as written (a truncated auth_pass, a deprecated keyword)
//   environment  about *this* host, not the file: a missing interface, script, script user,
//                include or routing table name
//   error        configuration dropped, ignored or invalid; and every message not in the table
//
// Pure: no I/O. The messages come from the keepalived-configtest probe.

export type ConfigtestGrade = 'info' | 'warning' | 'environment' | 'error';

export interface GradedMessage {
  grade: ConfigtestGrade;
  /** the whole line as keepalived printed it (continuation lines joined) */
  line: string;
  /** the message without keepalived's "(FILE: Line N)" prefix */
  message: string;
  file?: string;
  line_no?: number;
  /** what the table says it means; absent for unknown messages */
  meaning?: string;
  /** the table entry that matched ("unknown" when none) */
  rule: string;
}

interface Rule {
  id: string;
  grade: ConfigtestGrade;
  re: RegExp;
  meaning: string;
}

// %s is any text; names in keepalived's messages never span lines.
const RULES: Rule[] = [
  // ---- info: notes
  {
    id: 'track-own-interface',
    grade: 'info',
    re: /^\(.*\) Ignoring track_interface \S+ since own interface$/,
    meaning: 'an instance always tracks its own interface; listing it again in track_interface changes nothing',
  },
  {
    id: 'empty-notification-email',
    grade: 'info',
    re: /^Warning - empty notification_email block$/,
    meaning: 'an empty notification_email block sends no mail; nothing else changes',
  },
  {
    id: 'vs-default-nat',
    grade: 'info',
    re: /^Virtual server .*: no forwarding method set, setting default NAT$/,
    meaning: 'no lb_kind: keepalived uses NAT, its default',
  },
  {
    id: 'fwmark-protocol-ignored',
    grade: 'info',
    re: /^Warning: Virtual server FWM \d+: protocol specified for fwmark - protocol will be ignored$/,
    meaning: 'a firewall-mark service has no protocol; the one given is ignored',
  },
  { id: 'vrrp-version-default', grade: 'info', re: /^\(.*\) vrrp_version \d not specified - using \d$/, meaning: 'the default VRRP version is used' },

  // ---- warning: works, but not as written
  {
    id: 'auth-pass-truncated',
    grade: 'warning',
    re: /^Truncating auth_pass to \d+ characters$/,
    meaning: 'keepalived uses only the first 8 characters of auth_pass; a peer configured differently fails authentication',
  },
  { id: 'deprecated', grade: 'warning', re: /\bdeprecated\b/i, meaning: 'a deprecated keyword or usage: it still works today, a later keepalived may drop it' },
  { id: 'use-instead', grade: 'warning', re: /^.* - please use .*$/i, meaning: 'an old spelling of a keyword; keepalived names the current one' },
  {
    id: 'rule-no-preference',
    grade: 'warning',
    re: /^Rule has no preference specified - setting to \d+\./,
    meaning: 'a virtual_rule without preference gets one keepalived picks, which may not order as intended',
  },
  {
    id: 'route-not-tracked',
    grade: 'warning',
    re: /^Warning - cannot track route .* with no interface specified, not tracking$/,
    meaning: 'a virtual route without an interface is installed but not tracked',
  },
  {
    id: 'quorum-reduced',
    grade: 'warning',
    re: /^Warning - quorum \d+ for .* exceeds total weight of real servers \d+, reducing quorum to \d+$/,
    meaning: 'the quorum cannot be met with these real servers; keepalived lowers it',
  },
  {
    id: 'state-defaulted',
    grade: 'warning',
    re: /^\(.*\) unknown state '.*', defaulting to BACKUP$/,
    meaning: 'the state keyword takes MASTER or BACKUP; keepalived starts the instance as BACKUP',
  },
  { id: 'duplicate-overwrite', grade: 'warning', re: /^Duplicate .* - overwriting .* with .*$/, meaning: 'a setting given twice: the later one wins' },
  {
    id: 'include-check-unsupported',
    grade: 'warning',
    re: /^include_check type '.*' - not supported, (ignoring|treating as 'read')$/,
    meaning: 'an include_check type this keepalived does not support',
  },
  {
    id: 'include-variant-unsupported',
    grade: 'warning',
    re: /^include. not supported - treating as includer$/,
    meaning: 'an include variant this keepalived does not support, read as a plain include',
  },
  {
    id: 'multiple-config-matches',
    grade: 'warning',
    re: /^WARNING, multiple configuration file matches of .*, starting with .*$/,
    meaning: 'the configuration path matches several files; keepalived reads the first',
  },
  {
    id: 'no-vip',
    grade: 'warning',
    re: /^\(.*\) No VIP specified; at least one is sensible$/,
    meaning: 'an instance with no virtual_ipaddress moves no address (fine only where notify scripts do the work)',
  },
  { id: 'random-min-max', grade: 'warning', re: /^\$\{_RANDOM\}: min \d+ exceeds max \d+, using \d+$/, meaning: 'a ${_RANDOM} range is reversed' },

  // ---- environment: this host, not the file
  {
    id: 'interface-missing',
    grade: 'environment',
    re: /^(\(.*\) )?WARNING - (VRF )?interface \S+ (for .*|specified for garp_group) doesn't exist$/,
    meaning: 'an interface the config names does not exist on this host',
  },
  {
    id: 'tracked-interface-missing',
    grade: 'environment',
    re: /^\(.*\) tracked interface \S+ doesn't exist$/,
    meaning: 'a tracked interface does not exist on this host',
  },
  {
    id: 'bad-interface',
    grade: 'environment',
    re: /^Non-existent interface specified in configuration$/,
    meaning: "keepalived's summary of the missing interfaces above",
  },
  {
    id: 'interface-later',
    grade: 'environment',
    re: /^Configuration specifies interface \S+ which doesn't currently exist - will use if created$/,
    meaning: 'the interface does not exist yet on this host; keepalived uses it once created',
  },
  {
    id: 'no-address-on-interface',
    grade: 'environment',
    re: /^\(.*\) Cannot find an IP address to use for interface \S+$/,
    meaning: 'the VRRP interface has no address on this host to send adverts from',
  },
  {
    id: 'script-missing',
    grade: 'environment',
    re: /^(Cannot find script .* in path - disabling|Permissions failure for script .* in path - disabling|WARNING - script '.*' is not executable for uid:gid \d+:\d+ - disabling\.|Disabling (track|misc) script .* since not found\/accessible|track file .* is not accessible.*)$/,
    meaning: 'a script or tracked file the config names is missing or not executable on this host',
  },
  {
    id: 'script-unsafe',
    grade: 'environment',
    re: /^(Unsafe permissions found for script '.*'.*\.|Disabling (track|misc) script .* due to insecure)$/,
    meaning: 'a script on this host is writable by non-root users, so keepalived will not run it',
  },
  {
    id: 'script-user',
    grade: 'environment',
    re: /^(Unable to set default user .*|Error setting global script uid\/gid|Script (user|group) '.*' does not exist|Unable to resolve script username '.*' - ignoring|Unable to set uid\/gid for script .*|Failed to set default user for .*|WARNING - default user '.*' for script execution does not exist.*)$/,
    meaning: 'the user scripts run as (keepalived_script, or script_user) does not exist on this host',
  },
  {
    id: 'include-missing',
    grade: 'environment',
    re: /^(Config files missing '.*'\.|No config files matched '.*'\.|Unable to find configuration file .*|Unable to read configuration file .*|Error reading config file\(s\): .*)$/,
    meaning: 'an included file is missing on this host',
  },
  {
    id: 'nftables-instead',
    grade: 'environment',
    re: /^iptables not supported, using nftables instead\..*$/,
    meaning: "this host's keepalived was built without iptables support; it uses nftables",
  },
  {
    id: 'routing-name-missing',
    grade: 'environment',
    re: /^(Routing table|VRF|Protocol|Scope|Realm) \S+ not found( or invalid)? for (route|rule)$/,
    meaning: "a routing table, VRF or protocol name that this host's iproute2 files (rt_tables…) do not define",
  },
];

// keepalived prefixes a message with where it is: "(FILE: Line N) " with several files, "(Line N) " with one
const LOCATED = /^\((?:(.+?): )?Line (\d+)\) ?(.*)$/;

/** Split keepalived -t's output into messages (continuation lines, which start with white space,
 *  belong to the message before) and grade each. mainFile locates "(Line N)" messages. */
export function gradeConfigtest(output: string, mainFile?: string): GradedMessage[] {
  const raw: string[] = [];
  for (const l of output.split('\n')) {
    const line = l.replace(/\r$/, '');
    if (!line.trim()) continue;
    if (/^\s/.test(line) && raw.length) raw[raw.length - 1] += ` ${line.trim()}`;
    else raw.push(line.trim());
  }
  const removedScripts = new Map<string, ConfigtestGrade>();
  const out: GradedMessage[] = [];
  for (const line of raw) {
    const m = LOCATED.exec(line);
    const message = m ? m[3]! : line;
    // a continuation keepalived printed with its own "(FILE: Line N)" prefix
    if (m && /^\s/.test(message) && out.length) {
      const prev = out[out.length - 1]!;
      prev.line += ` ${message.trim()}`;
      prev.message += ` ${message.trim()}`;
      continue;
    }
    const g = gradeMessage(message, removedScripts);
    const file = m ? (m[1] ?? mainFile) : undefined;
    out.push({
      line,
      message,
      grade: g.grade,
      rule: g.rule,
      ...(g.meaning ? { meaning: g.meaning } : {}),
      ...(file ? { file } : {}),
      ...(m ? { line_no: Number(m[2]) } : {}),
    });
  }
  return out;
}

function gradeMessage(message: string, removedScripts: Map<string, ConfigtestGrade>): { grade: ConfigtestGrade; rule: string; meaning?: string } {
  // a script keepalived removed for a reason about this host: the "track script X not found"
  // that follows is the same cause, not a second problem
  const removed =
    /^Unable to set default user for vrrp script (\S+) - removing$|^Disabling track script (\S+) (?:since not found\/accessible|due to insecure)$/.exec(
      message,
    );
  const track = /^\(.*\) track script (\S+) not found, ignoring\.\.\.$/.exec(message);
  if (track && removedScripts.has(track[1]!)) {
    return { grade: removedScripts.get(track[1]!)!, rule: 'track-script-removed', meaning: 'the track script was removed above for a reason about this host' };
  }
  for (const r of RULES) {
    if (r.re.test(message)) {
      if (removed) removedScripts.set((removed[1] ?? removed[2])!, r.grade);
      return { grade: r.grade, rule: r.id, meaning: r.meaning };
    }
  }
  if (removed) {
    removedScripts.set((removed[1] ?? removed[2])!, 'environment');
    return { grade: 'environment', rule: 'script-removed', meaning: 'a script was removed for a reason about this host' };
  }
  return { grade: 'error', rule: 'unknown' };
}

/** The rules, for documentation and tests. */
export function configtestRules(): ReadonlyArray<Readonly<Rule>> {
  return RULES;
}
