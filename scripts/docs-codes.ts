// npm run docs:codes: writes docs/codes.md from the registry (src/codes.ts) and the checks.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKS } from '../checks/index.js';
import { codeEntries, renderCodesMarkdown } from '../src/codes-view.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'docs', 'codes.md');
writeFileSync(file, renderCodesMarkdown(codeEntries(CHECKS)));
process.stdout.write(`wrote ${path.relative(root, file)}\n`);
