import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/netfilter');
export const fixture = (name: string) => readFileSync(path.join(dir, name), 'utf8');
