// The one whole-table operation, never automatic: `hagw-doctor undo ID --restore-backup` puts the
// iptables tables and nft ruleset a change backed up back as they were, after showing every rule
// it would remove that was not in the backup (rules added since, by anyone) and every rule it
// would put back. It runs only with consent, on the node the change was made on, and only while
// the tables are still as previewed.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { restoreIptables, restoreNft } from './backup.js';
import { runArgv } from './exec.js';
import { acquireLock } from './lock.js';
import { logChange } from './log.js';
import { changeDir, readManifest, writeManifest, type ChangeManifest } from './manifest.js';
import { currentNode, describeNode, sameNode } from './node.js';
import type { ChangePaths } from './paths.js';
import { sha256 } from './steps.js';

const ruleLines = (save: string) => save.split('\n').filter((l) => /^-A /.test(l));
const nftLines = (ruleset: string) =>
  ruleset
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== '}');

interface Now {
  iptables: Record<string, string>;
  nft?: string;
}

async function current(m: ChangeManifest): Promise<Now> {
  const now: Now = { iptables: {} };
  for (const e of m.backup.iptables) {
    const r = await runArgv(['iptables-save', '-t', e.table]);
    if (!r.ok) throw new Error(`iptables-save -t ${e.table}: ${r.reason}`);
    now.iptables[e.table] = r.stdout;
  }
  if (m.backup.nft) {
    const r = await runArgv(['nft', 'list', 'ruleset']);
    if (!r.ok) throw new Error(`nft list ruleset: ${r.reason}`);
    now.nft = r.stdout;
  }
  return now;
}

const fingerprint = (now: Now) => sha256(JSON.stringify(now.iptables) + '\n' + (now.nft ?? ''));

export async function restoreBackupPreview(
  id: string,
  paths: ChangePaths,
): Promise<{ ok: true; text: string; expect: string } | { ok: false; message: string }> {
  let m: ChangeManifest;
  try {
    m = await readManifest(changeDir(paths.changesDir, id));
  } catch (err) {
    return { ok: false, message: `${(err as Error).message}; nothing changed` };
  }
  const here = await currentNode();
  if (!sameNode(m.node, here))
    return { ok: false, message: `change ${m.id} was made on ${describeNode(m.node)}, not here (${describeNode(here)}); nothing changed` };
  if (!m.backup.iptables.length && !m.backup.nft)
    return { ok: false, message: `change ${m.id} backed up no iptables table and no nft ruleset; nothing to restore wholesale` };
  const dir = changeDir(paths.changesDir, m.id);
  let now: Now;
  try {
    now = await current(m);
  } catch (err) {
    return { ok: false, message: `cannot read the tables now: ${(err as Error).message}; nothing changed` };
  }
  const out: string[] = [`Whole-table restore for change ${m.id} (${m.plan.summary}), from its backup of ${m.when}:`];
  for (const e of m.backup.iptables) {
    const saved = ruleLines(await readFile(path.join(dir, e.saved), 'utf8'));
    const nowLines = ruleLines(now.iptables[e.table] ?? '');
    const removed = nowLines.filter((l) => !saved.includes(l));
    const added = saved.filter((l) => !nowLines.includes(l));
    out.push('', `iptables table ${e.table} (iptables-restore -T ${e.table}):`);
    if (!removed.length && !added.length) out.push('  no rule differs (only the order may)');
    for (const l of removed) out.push(`  REMOVES (not in the backup): ${l}`);
    for (const l of added) out.push(`  PUTS BACK: ${l}`);
  }
  if (m.backup.nft) {
    const saved = nftLines(await readFile(path.join(dir, m.backup.nft.saved), 'utf8'));
    const nowLines = nftLines(now.nft ?? '');
    const removed = nowLines.filter((l) => !saved.includes(l));
    const added = saved.filter((l) => !nowLines.includes(l));
    out.push('', 'the whole nft ruleset (flush ruleset, then the backup):');
    if (!removed.length && !added.length) out.push('  no line differs');
    for (const l of removed) out.push(`  REMOVES (not in the backup): ${l}`);
    for (const l of added) out.push(`  PUTS BACK: ${l}`);
  }
  out.push('', 'Everything marked REMOVES was added after the backup, by this change or by anyone else.');
  return { ok: true, text: out.join('\n') + '\n', expect: fingerprint(now) };
}

export async function applyRestoreBackup(id: string, paths: ChangePaths, expect: string): Promise<{ exitCode: 0 | 3; message: string }> {
  let lock;
  try {
    lock = await acquireLock(paths.lock);
  } catch (err) {
    return { exitCode: 3, message: `${(err as Error).message}; nothing changed` };
  }
  try {
    const dir = changeDir(paths.changesDir, id);
    const m = await readManifest(dir);
    if (!sameNode(m.node, await currentNode())) return { exitCode: 3, message: `change ${id} was made on another node; nothing changed` };
    if (fingerprint(await current(m)) !== expect)
      return { exitCode: 3, message: 'the tables changed since the preview; nothing changed (run it again to see the new preview)' };
    const lines: string[] = [];
    let ok = true;
    for (const e of m.backup.iptables) {
      try {
        lines.push(await restoreIptables(dir, e));
      } catch (err) {
        ok = false;
        lines.push(`FAILED: ${(err as Error).message}`);
      }
    }
    if (m.backup.nft) {
      try {
        lines.push(await restoreNft(dir, m.backup.nft));
      } catch (err) {
        ok = false;
        lines.push(`FAILED: ${(err as Error).message}`);
      }
    }
    m.rollbacks.push({ at: new Date().toISOString(), reason: 'restore-backup', ok, actions: lines });
    if (ok) m.state = 'rolled-back';
    m.result = `${m.result ?? ''}; whole tables restored from the backup on request${ok ? '' : ' (INCOMPLETE)'}`;
    await writeManifest(dir, m);
    await logChange(paths.log, 'restore-backup', { id, ok, actions: lines });
    return { exitCode: ok ? 0 : 3, message: lines.join('\n') };
  } catch (err) {
    return { exitCode: 3, message: (err as Error).message };
  } finally {
    await lock.release();
  }
}
