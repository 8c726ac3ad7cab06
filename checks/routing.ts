// Checks of the routing area.
import type { Check } from '../src/check.js';

export const routingChecks: Check[] = [];
