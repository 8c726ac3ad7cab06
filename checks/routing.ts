// Checks of the routing area: policy routing, the local table, IPVS, kernel and NIC settings.
import type { Check } from '../src/check.js';
import { policyRoutingChecks } from './routing-policy.js';
import { localTableChecks } from './routing-local.js';
import { ipvsChecks } from './ipvs.js';
import { nicChecks } from './nic.js';

export const routingChecks: Check[] = [...policyRoutingChecks, ...localTableChecks, ...ipvsChecks, ...nicChecks];
