// The change engine's PreviewModel as the fix screen's lines. Pure.
import type { PreviewModel } from '../../change/preview.js';
import type { PreviewLine } from './findings.js';
import type { FixPreview } from '../services.js';

export function previewFromModel(model: PreviewModel): FixPreview {
  const lines: PreviewLine[] = [];
  for (const s of model.steps) {
    const n = `${s.index + 1}.`;
    if (s.kind === 'command') lines.push({ kind: 'heading', text: `${n} ${s.label}${s.optional ? '  (optional)' : ''}` });
    else if (s.kind === 'write') lines.push({ kind: 'heading', text: `${n} ${s.fileIsNew ? 'create' : 'replace'} ${s.path} (mode ${s.mode})` });
    else lines.push({ kind: 'heading', text: `${n} remove ${s.path}${s.fileIsNew ? ' (already absent)' : ''}` });
    if (s.why) lines.push({ kind: 'note', text: `   why: ${s.why}` });
    if (s.kind === 'command') lines.push({ kind: 'command', text: `   $ ${s.label}` });
    lines.push({ kind: 'note', text: `   undo: ${s.kind === 'command' && s.undo.length ? s.undo.join(' && ') : 'restored from the backup'}` });
    if (s.diff) {
      for (const line of s.diff.replace(/\n$/, '').split('\n')) {
        const kind =
          line.startsWith('+++') || line.startsWith('---') || line.startsWith('@@')
            ? 'heading'
            : line.startsWith('+')
              ? 'add'
              : line.startsWith('-')
                ? 'remove'
                : 'context';
        lines.push({ kind, text: `   ${line}` });
      }
    } else if (s.kind === 'write') lines.push({ kind: 'note', text: '   (content unchanged)' });
  }
  return { lines, backup: model.backup, irreversible: model.irreversible, confirmWord: model.confirmWord };
}
