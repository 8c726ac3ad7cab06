// Fix plans for the keepalived configuration findings: line edits of the config files (each with a
// "# hagw-doctor:" note), keepalived -t as a guard, a reload of the running daemon, and keepalived's
// own nft drop table deleted (its undo rebuilds it as the snapshot showed it). Pure: the check passes
// what the snapshot holds.
import type { FixPlan, FixStep } from '../types.js';
import type { KeepalivedConfig, VrrpInstance } from './model.js';
import type { NftTable } from '../netfilter/nft.js';
import { effectiveVersion, strictFor } from '../netfilter/vrrp-paths.js';

/** What the keepalived plans read from the snapshot. */
export interface KeepalivedFixInput {
  cfg: KeepalivedConfig;
  /** the main config file (what keepalived -t tests) */
  mainConf: string;
  /** the text of a config file as the snapshot holds it */
  text: (file: string) => string | undefined;
  /** the pid of our running keepalived (its parent process); undefined when none runs */
  pid: number | undefined;
  /** keepalived's own nft tables as the snapshot shows them */
  tables: NftTable[];
  /** keepalived -t's exit status on the current config (0: clean); undefined when it did not run */
  configtestExit: number | undefined;
}

/** A line edit of a config file: insert a line after `line`, or comment `line` out (to `end`, inclusive). */
export interface ConfEdit {
  file: string;
  line: number;
  kind: 'insert-after' | 'comment';
  /** comment: the last line of the block to comment out (its closing brace) */
  end?: number;
  text?: string;
  note?: string;
}

/** The line (1-based) of the brace closing the block that opens on `line` (or a following line). */
function blockEnd(lines: string[], line: number): number | undefined {
  let depth = 0;
  let opened = false;
  for (let i = line - 1; i < lines.length; i++) {
    for (const c of lines[i]!.replace(/[#!].*$/, '')) {
      if (c === '{') {
        depth++;
        opened = true;
      } else if (c === '}') depth--;
    }
    if (opened && depth <= 0) return i + 1;
  }
  return undefined;
}

/** The line (1-based) where the block opening on `line` has its `{`. */
function blockOpen(lines: string[], line: number): number | undefined {
  for (let i = line - 1; i < lines.length; i++) if (lines[i]!.replace(/[#!].*$/, '').includes('{')) return i + 1;
  return undefined;
}

/** Apply line edits to a file's text (bottom-up, so earlier line numbers stay valid). */
export function applyEdits(text: string, edits: ConfEdit[]): string | undefined {
  const lines = text.split('\n');
  // bottom-up; on one line, the insertion first (it lands below the line, which the comment keeps in place)
  for (const e of [...edits].sort((x, y) => y.line - x.line || (x.kind === 'insert-after' ? -1 : 1))) {
    if (e.line < 1 || e.line > lines.length) return undefined;
    if (e.kind === 'insert-after') {
      const next = lines.slice(e.line).find((l) => l.trim() !== '') ?? '';
      const indent = /^\s*/.exec(next)?.[0] || '    ';
      lines.splice(e.line, 0, `${indent}${e.text ?? ''}${e.note ? `    # hagw-doctor: ${e.note}` : ''}`);
    } else {
      const end = e.end ?? e.line;
      for (let i = e.line; i <= end; i++) lines[i - 1] = `#${lines[i - 1]}`;
      if (e.note) lines.splice(e.line - 1, 0, `${/^\s*/.exec(lines[e.line - 1]!.slice(1))?.[0] ?? ''}# hagw-doctor: ${e.note}`);
    }
  }
  return lines.join('\n');
}

/**
 * The config edits that let the VIPs accept traffic, the way keepalived honours them:
 * - no_accept (without strict mode): replaced by accept;
 * - strict mode on VRRPv3: `accept` in the instance (strict mode honours it on v3);
 * - strict mode on VRRPv2: keepalived resets `accept` ("accept mode for VRRP version 2 does not
 *   comply with RFC3768 - resetting"), so strict mode itself must go (vrrp_strict in global_defs, or
 *   the instance's strict_mode). Strict mode also ignored the instances' authentication blocks; they
 *   are commented out with it, so the adverts on the wire stay exactly as they were (a peer still in
 *   strict mode would otherwise see authenticated adverts it does not expect).
 */
export function strictEdits(cfg: KeepalivedConfig, affected: VrrpInstance[], text: (file: string) => string | undefined): ConfEdit[] | undefined {
  const edits: ConfEdit[] = [];
  const lineIn = (file: string, from: number, to: number, re: RegExp): number | undefined => {
    const lines = text(file)?.split('\n');
    if (!lines) return undefined;
    for (let i = from - 1; i < Math.min(to, lines.length); i++) if (re.test(lines[i]!.replace(/[#!].*$/, ''))) return i + 1;
    return undefined;
  };
  let globalDone = false;
  const authOff = new Set<string>();
  for (const vi of affected) {
    const lines = text(vi.loc.file)?.split('\n');
    if (!lines) return undefined;
    const end = blockEnd(lines, vi.loc.line);
    if (!end) return undefined;
    const strict = strictFor(cfg, vi);
    if (!strict) {
      const l = lineIn(vi.loc.file, vi.loc.line, end, /^\s*no_accept\b/);
      if (!l) return undefined;
      edits.push({ file: vi.loc.file, line: l, kind: 'comment', note: 'accept instead: the VIP answers traffic addressed to it' });
      edits.push({ file: vi.loc.file, line: l, kind: 'insert-after', text: 'accept' });
      continue;
    }
    if (effectiveVersion(cfg, vi) === 3) {
      const open = blockOpen(lines, vi.loc.line);
      if (!open) return undefined;
      edits.push({
        file: vi.loc.file,
        line: open,
        kind: 'insert-after',
        text: 'accept',
        note: 'the VIP answers traffic addressed to it (strict mode honours accept on VRRPv3)',
      });
      continue;
    }
    if (vi.strictMode) {
      const l = lineIn(vi.loc.file, vi.loc.line, end, /^\s*strict_mode\b/);
      if (!l) return undefined;
      edits.push({ file: vi.loc.file, line: l, kind: 'comment', note: 'strict mode drops traffic to the VIPs on VRRPv2 (accept is reset there)' });
    } else if (!globalDone) {
      const gfile = cfg.globalDefs.loc?.file;
      const gline = cfg.globalDefs.loc?.line;
      if (!gfile || !gline) return undefined;
      const gl = text(gfile)?.split('\n');
      const gend = gl ? blockEnd(gl, gline) : undefined;
      const l = gend ? lineIn(gfile, gline, gend, /^\s*vrrp_strict\b/) : undefined;
      if (!l) return undefined;
      edits.push({ file: gfile, line: l, kind: 'comment', note: 'strict mode drops traffic to the VIPs on VRRPv2 (accept is reset there)' });
      globalDone = true;
    }
    // with strict mode gone, these would start authenticating the adverts: keep the wire as it was
    const inScope = vi.strictMode ? [vi] : cfg.vrrpInstances.filter((x) => x.strictMode === undefined && effectiveVersion(cfg, x) === 2);
    for (const x of inScope) {
      if (!x.authentication || authOff.has(x.name)) continue;
      const xl = text(x.authentication.loc.file)?.split('\n');
      const aend = xl ? blockEnd(xl, x.authentication.loc.line) : undefined;
      if (!aend) return undefined;
      edits.push({
        file: x.authentication.loc.file,
        line: x.authentication.loc.line,
        end: aend,
        kind: 'comment',
        note: 'strict mode ignored this block; kept off so the adverts stay unauthenticated, as the peer expects',
      });
      authOff.add(x.name);
    }
  }
  return edits;
}

/** keepalived -t on the new config: a guard when the current config tests clean; when it already
 *  reports errors (exit 5: e.g. "State MASTER must match being address owner", which vrrp_strict
 *  itself causes) the same errors would fail the guard, so the step is kept, tolerated, for the record. */
function validateStep(code: number | undefined, mainConf: string): FixStep {
  if (code === 0)
    return {
      argv: ['keepalived', '-t', '-f', mainConf],
      undo: [],
      why: 'keepalived accepts the new config before it is loaded (a failure rolls the file back; the test itself changes nothing)',
    };
  return {
    argv: ['keepalived', '-t', '-f', mainConf],
    optional: true,
    undo: [],
    why: `keepalived -t already reports problems with the current config (exit ${code ?? 'unknown'}: see keepalived-config-invalid), so it cannot guard this change; run for the record only`,
  };
}

/** The first step of a config change: keepalived runs (kill -0), and on undo it reloads the restored
 *  file (steps are undone last-first, after the file is restored). */
function anchorStep(pid: number): FixStep {
  return {
    argv: ['kill', '-0', String(pid)],
    undo: [['kill', '-HUP', String(pid)]],
    why: `keepalived (pid ${pid}) runs; on undo it reloads the restored config`,
  };
}

/** The argv that rebuild a keepalived table as the snapshot shows it (the undo of deleting it). */
function rebuildTable(t: NftTable): string[][] {
  const out: string[][] = [['nft', 'add', 'table', t.family, t.name]];
  const addrType = t.family === 'ip6' ? 'ipv6_addr' : 'ipv4_addr';
  for (const [name, elems] of Object.entries(t.sets)) {
    out.push(['nft', 'add', 'set', t.family, t.name, name, `{ type ${addrType}; }`]);
    if (elems.length) out.push(['nft', 'add', 'element', t.family, t.name, name, `{ ${elems.join(', ')} }`]);
  }
  for (const c of Object.values(t.chains)) {
    out.push(
      c.hook
        ? [
            'nft',
            'add',
            'chain',
            t.family,
            t.name,
            c.name,
            `{ type ${c.type ?? 'filter'} hook ${c.hook} priority ${c.priority ?? 0}; policy ${(c.policy ?? 'accept').toLowerCase()}; }`,
          ]
        : ['nft', 'add', 'chain', t.family, t.name, c.name],
    );
    for (const r of c.rules) out.push(['nft', 'add', 'rule', t.family, t.name, c.name, r.text]);
  }
  return out;
}

/** keepalived 2.2.7 keeps its drop table across a reload that turns strict mode off (proven in the
 *  lab): while MASTER the VIPs stay dropped until a restart. Deleting the table, once no instance needs
 *  it, ends that without the failover a restart causes. Its undo rebuilds the table as it was. */
function dropTableSteps(a: KeepalivedFixInput): FixStep[] {
  // use_vmac uses the table too: then keepalived still needs it once every instance accepts
  if (a.cfg.files.some((f) => /^\s*use_vmac\b/m.test(a.text(f) ?? ''))) return [];
  return a.tables.map((t) => ({
    argv: ['nft', 'delete', 'table', t.family, t.name],
    undo: rebuildTable(t),
    why: `keepalived leaves its drop table in place across a reload; with strict mode off no instance needs table ${t.family} ${t.name} (undo: the table is rebuilt as it was)`,
  }));
}

/** The config already lets the VIPs accept, but the running keepalived kept its drop table across a
 *  reload (vrrp-strict-blocks-vip): delete the table; undefined when keepalived does not run or needs it. */
export function staleDropTablePlan(a: KeepalivedFixInput): FixPlan | undefined {
  if (a.pid === undefined) return undefined;
  const drop = dropTableSteps(a);
  if (!drop.length) return undefined;
  return {
    summary: `delete keepalived's stale drop table (${a.tables
      .map((t) => `${t.family} ${t.name}`)
      .join(', ')}): the config no longer asks for it, and a reload does not remove it`,
    risk: 'safe',
    steps: drop,
    touches: { nft: true },
    persistence: { persistent: true, how: "the config on disk no longer installs the rule; only the running daemon's leftover goes" },
    verifies: ['vrrp-strict-blocks-vip'],
  };
}

/** Let the affected instances' VIPs accept traffic (vrrp-strict-blocks-vip): edit the config (accept,
 *  or strict mode off on VRRPv2), test it, reload keepalived, and delete its drop table once no
 *  instance needs it; undefined when keepalived does not run or the edits cannot be placed. */
export function strictAcceptPlan(a: KeepalivedFixInput, affected: VrrpInstance[]): FixPlan | undefined {
  const { cfg, pid } = a;
  if (pid === undefined) return undefined;
  const edits = strictEdits(cfg, affected, a.text);
  if (!edits?.length) return undefined;
  const files = [...new Set(edits.map((e) => e.file))];
  const writes: FixStep[] = [];
  for (const file of files) {
    const next = applyEdits(
      a.text(file)!,
      edits.filter((e) => e.file === file),
    );
    if (next === undefined) return undefined;
    writes.push({
      write: { path: file, content: next, mode: 0o644 },
      why: [...new Set(edits.filter((e) => e.file === file && e.note).map((e) => e.note!))].join('; '),
    });
  }
  const dropsStrict = edits.some((e) => e.kind === 'comment' && e.note?.startsWith('strict mode drops'));
  // every instance of the config accepts afterwards (only those left out of `affected` could still need the table)
  const allFixed = cfg.vrrpInstances.every((vi) => affected.includes(vi) || !(strictFor(cfg, vi) || vi.accept === false));
  const drop = allFixed ? dropTableSteps(a) : [];
  const what = dropsStrict
    ? `turn strict mode off (on VRRPv2 keepalived resets \`accept\` under it)${edits.some((e) => e.note?.startsWith('strict mode ignored')) ? ' and comment out the authentication blocks it ignored, so the adverts stay as they are' : ''}`
    : `let ${affected.map((vi) => vi.name).join(', ')} accept traffic to their VIPs (\`accept\`)`;
  return {
    summary: `${what} in ${files.join(', ')}, and reload keepalived (kill -HUP ${pid}: its parent process, what \`systemctl reload keepalived\` sends). Do the same on the peer: its config is alike`,
    risk: 'safe',
    steps: [
      anchorStep(pid),
      ...writes,
      validateStep(a.configtestExit, a.mainConf),
      { argv: ['kill', '-HUP', String(pid)], undo: [], why: 'keepalived reloads: the VIPs accept traffic addressed to them' },
      ...drop,
    ],
    touches: { files, ...(drop.length ? { nft: true } : {}) },
    persistence: { persistent: true, how: `written to ${files.join(', ')}; keepalived reads it at every start` },
    verifies: ['vrrp-strict-blocks-vip'],
  };
}
