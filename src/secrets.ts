// Secrets stay secret. keepalived's only secret is the VRRP PASS authentication's auth_pass (AH
// has none in the file). Reports never show it; snapshots carry it only with --include-secrets.
//
// A redacted snapshot replaces each auth_pass value with a token
//
//     REDACTED:<length>:<fingerprint>
//
// where <fingerprint> is scrypt(first 8 characters, salt "hagw-doctor/auth_pass/v1", N=2^14,
// r=8, p=1), 12 bytes in hex. keepalived compares only the first 8 characters, so two nodes'
// snapshots still tell "auth differs" (and the length still tells "truncated to 8") without the
// value. The salt is fixed so the two nodes' fingerprints compare; scrypt makes guessing a weak
// password from the fingerprint slow, not impossible (PASS authentication also sends the first 8
// characters in clear in every advert, so anyone on the VRRP network can read it anyway).
import { scryptSync } from 'node:crypto';
import type { Finding, ProbeRecord, Snapshot } from './types.js';

const SALT = 'hagw-doctor/auth_pass/v1';
const PREFIX = 'REDACTED:';
const TOKEN = /^REDACTED:(\d+):([0-9a-f]{24})$/;
/** secrets shorter than this are not searched for in free text (they would match everywhere) */
const MIN_SCRUB = 4;

const fpCache = new Map<string, string>();

/** The fingerprint of what keepalived uses of an auth_pass (its first 8 characters). */
export function authFingerprint(pass: string): string {
  const used = pass.slice(0, 8);
  let fp = fpCache.get(used);
  if (!fp) {
    fp = scryptSync(used, SALT, 12, { N: 16384, r: 8, p: 1 }).toString('hex');
    fpCache.set(used, fp);
  }
  return fp;
}

export function redactedToken(pass: string): string {
  return `${PREFIX}${pass.length}:${authFingerprint(pass)}`;
}

export function isRedacted(value: string): boolean {
  return TOKEN.test(value);
}

/** The length of an auth_pass, plain or redacted. */
export function authPassLength(value: string): number {
  const m = TOKEN.exec(value);
  return m ? Number(m[1]) : value.length;
}

/** The fingerprint of an auth_pass, plain or redacted. */
export function authPassFingerprint(value: string): string {
  return TOKEN.exec(value)?.[2] ?? authFingerprint(value);
}

/** Whether two auth_pass values (plain or redacted, from a config or a capture) authenticate each other. */
export function sameAuthPass(a: string, b: string): boolean {
  if (!isRedacted(a) && !isRedacted(b)) return a.slice(0, 8) === b.slice(0, 8);
  return authPassFingerprint(a) === authPassFingerprint(b);
}

// ---------------------------------------------------------------- finding secrets in text

// auth_pass VALUE, VALUE a word or a quoted string (keepalived's words end at white space, braces, ! and #)
const AUTH_PASS = /(\bauth_pass[ \t]+)("(?:[^"\\\n]|\\.)*"|[^\s{}!#]+)/g;

function unquote(v: string): string {
  return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1).replace(/\\(["\\])/g, '$1') : v;
}

/** The auth_pass values a keepalived config text holds (macros resolved where the value is one). */
export function configSecrets(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(AUTH_PASS)) {
    const v = unquote(m[2]!);
    if (isRedacted(v)) continue;
    const macro = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(v);
    if (macro) {
      const def = new RegExp(`^[ \\t]*\\$${macro[1]}=(.*)$`, 'm').exec(text);
      if (def) out.add(unquote(def[1]!.trim()));
    } else out.add(v);
  }
  return [...out].filter(Boolean);
}

/** A config text with every auth_pass value (and the macro it names) replaced by its token. */
export function redactConfigText(text: string): string {
  let out = text.replace(AUTH_PASS, (all, kw: string, raw: string) => {
    const v = unquote(raw);
    if (isRedacted(v) || /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(v)) return all;
    return `${kw}${redactedToken(v)}`;
  });
  for (const m of text.matchAll(AUTH_PASS)) {
    const macro = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(unquote(m[2]!));
    if (!macro) continue;
    out = out.replace(new RegExp(`^([ \\t]*\\$${macro[1]}=)(.*)$`, 'm'), (all, head: string, value: string) =>
      isRedacted(value.trim()) ? all : `${head}${redactedToken(unquote(value.trim()))}`,
    );
  }
  return out;
}

/** Every secret, and the 8 characters keepalived uses of it, replaced in free text. */
export function scrubText(text: string, secrets: readonly string[], replace: (secret: string) => string): string {
  const needles = new Map<string, string>();
  for (const s of secrets) {
    if (s.length >= MIN_SCRUB) needles.set(s, replace(s));
    const used = s.slice(0, 8);
    if (used.length >= MIN_SCRUB && !needles.has(used)) needles.set(used, replace(s));
  }
  if (!needles.size) return text;
  let out = text;
  // longest first, so a password is replaced whole before its 8-character prefix
  for (const [needle, by] of [...needles].sort((a, b) => b[0].length - a[0].length)) if (out.includes(needle)) out = out.split(needle).join(by);
  return out;
}

// tcpdump prints PASS authentication as auth "VALUE" (the 8 bytes on the wire)
const WIRE_AUTH = /(\bauth ")((?:[^"\\\n]|\\.)*)(")/g;

const isConfigProbe = (id: string) => id.startsWith('kconf:') || id === 'peer-config';

/** The auth_pass values in a snapshot's keepalived config files (this node's and --peer-config's). */
export function snapshotSecrets(snapshot: Pick<Snapshot, 'probes'>): string[] {
  const out = new Set<string>();
  for (const r of Object.values(snapshot.probes)) if (isConfigProbe(r.id) && r.status === 'ok') for (const s of configSecrets(r.stdout)) out.add(s);
  return [...out];
}

/**
 * A copy of a snapshot without its secrets: auth_pass values in the config files become their
 * token; anywhere else they appear (keepalived -t output, logs, a command line) and in tcpdump's
 * auth "…" they become the token too; an embedded peer snapshot is redacted the same way.
 */
export function redactSnapshot(snapshot: Snapshot, also: readonly string[] = []): Snapshot {
  // the two nodes of a pair share their passwords: each one's secrets are scrubbed from both parts
  const embedded = embeddedSnapshot(snapshot);
  const secrets = [...new Set([...snapshotSecrets(snapshot), ...(embedded ? snapshotSecrets(embedded) : []), ...also])];
  const probes: Record<string, ProbeRecord> = {};
  for (const [id, r] of Object.entries(snapshot.probes)) {
    const text = (s: string) =>
      scrubText(isConfigProbe(id) ? redactConfigText(s) : s, secrets, redactedToken).replace(WIRE_AUTH, (all, a: string, v: string, b: string) =>
        isRedacted(v) ? all : `${a}${redactedToken(v)}${b}`,
      );
    let stdout = text(r.stdout);
    if (id === 'peer-snapshot' && r.status === 'ok') {
      try {
        stdout = JSON.stringify(redactSnapshot(JSON.parse(r.stdout) as Snapshot, secrets), null, 2);
      } catch {
        // not a snapshot: the analysis reports that; known secrets are scrubbed above
      }
    }
    probes[id] = { ...r, stdout, stderr: text(r.stderr), ...(r.argv ? { argv: r.argv.map(text) } : {}), ...(r.reason ? { reason: text(r.reason) } : {}) };
  }
  return { ...snapshot, options: { ...snapshot.options, secrets: 'redacted' }, probes };
}

/** The snapshot embedded in this one (--peer, --peer-snapshot), when it parses. */
function embeddedSnapshot(snapshot: Snapshot): Snapshot | undefined {
  const peer = snapshot.probes['peer-snapshot'];
  if (peer?.status !== 'ok') return undefined;
  try {
    const s = JSON.parse(peer.stdout) as Snapshot;
    return s && typeof s === 'object' && s.probes && typeof s.probes === 'object' ? s : undefined;
  } catch {
    return undefined; // not a snapshot
  }
}

/** The last net under every report: no finding text carries a secret of the analysed snapshot
 *  (its config, the peer's config or snapshot), whatever a check quoted. */
export function scrubFindings(findings: Finding[], snapshot: Snapshot): void {
  const secrets = new Set(snapshotSecrets(snapshot));
  const embedded = embeddedSnapshot(snapshot);
  if (embedded) for (const s of snapshotSecrets(embedded)) secrets.add(s);
  if (!secrets.size) return;
  const list = [...secrets].filter((s) => !isRedacted(s));
  const hide = () => '(auth_pass hidden)';
  const scrub = (s: string) => scrubText(s, list, hide);
  for (const f of findings) {
    f.title = scrub(f.title);
    f.detail = scrub(f.detail);
    for (const e of f.evidence) e.excerpt = scrub(e.excerpt);
    if (f.subject) f.subject = scrub(f.subject);
  }
}
