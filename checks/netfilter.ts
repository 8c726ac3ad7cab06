// Checks of the netfilter area.
import type { Check } from '../src/check.js';

export const netfilterChecks: Check[] = [];
