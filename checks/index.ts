// Every check, one import per area; this list is the only place they meet (and their order is the
// report's order). A new area: its file in checks/, one import and one spread here.
import type { Check } from '../src/check.js';
import { kernelChecks } from './kernel.js';
import { keepalivedChecks } from './keepalived.js';
import { daemonChecks } from './keepalived-daemon.js';
import { keepalivedConfigChecks } from './keepalived-config.js';
import { keepalivedPairChecks } from './keepalived-pair.js';
import { netfilterChecks } from './netfilter.js';
import { policyRoutingChecks } from './routing-policy.js';
import { localTableChecks } from './routing-local.js';
import { ipvsChecks } from './ipvs.js';
import { nicChecks } from './nic.js';
import { vrrpChecks } from './vrrp.js';
import { changeChecks } from './change.js';
import { vrrpFieldChecks } from './vrrp-field.js';
import { fieldConfigChecks } from './field-config.js';
import { fieldHostChecks } from './field-host.js';
import { fieldIpv6Checks } from './field-ipv6.js';
import { fieldLvsChecks } from './field-lvs.js';

export const CHECKS: readonly Check[] = [
  ...kernelChecks,
  ...keepalivedChecks,
  ...daemonChecks,
  ...keepalivedConfigChecks,
  ...keepalivedPairChecks,
  ...netfilterChecks,
  ...policyRoutingChecks,
  ...localTableChecks,
  ...ipvsChecks,
  ...nicChecks,
  ...vrrpChecks,
  ...changeChecks,
  ...vrrpFieldChecks,
  ...fieldConfigChecks,
  ...fieldHostChecks,
  ...fieldIpv6Checks,
  ...fieldLvsChecks,
];
