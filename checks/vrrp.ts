// Checks of the vrrp area.
import type { Check } from '../src/check.js';

export const vrrpChecks: Check[] = [];
