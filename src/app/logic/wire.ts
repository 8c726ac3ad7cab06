// The live VRRP view of triage: who advertises each VRID, as the wire capture saw it. No React.
import type { Snapshot } from '../../types.js';
import { CheckContext, SkipCheck } from '../../context.js';
import { wireView } from '../../vrrp/view.js';
import { describeVrid } from '../../vrrp/adverts.js';

export interface WireLines {
  /** one line per VRID, or why there is no capture */
  lines: string[];
  captured: boolean;
}

export function wireLines(snapshot: Snapshot): WireLines {
  try {
    const view = wireView(new CheckContext(snapshot));
    const vrids = [...view.byVrid].sort((a, b) => a.vrid - b.vrid);
    if (!vrids.length) return { captured: true, lines: [`no VRRP advert seen in ${view.seconds} s: nobody advertises on these interfaces, or they are not the VRRP ones`] };
    return { captured: true, lines: [`${view.adverts.length} adverts in ${view.seconds} s`, ...vrids.map(describeVrid)] };
  } catch (err) {
    if (err instanceof SkipCheck) return { captured: false, lines: [err.message] };
    throw err;
  }
}
