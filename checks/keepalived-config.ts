// Checks of the keepalived-config area.
import type { Check } from '../src/check.js';

export const keepalivedConfigChecks: Check[] = [];
