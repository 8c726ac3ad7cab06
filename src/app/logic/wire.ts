// The live VRRP view of triage: who advertises each VRID, as the wire capture saw it. No React.
import type { Snapshot } from '../../types.js';
import { CheckContext, SkipCheck } from '../../context.js';
import { wireView, wireWho } from '../../vrrp/view.js';
import { describeVrid } from '../../vrrp/adverts.js';

export interface WireLines {
  /** one line per VRID, or why there is no capture */
  lines: string[];
  captured: boolean;
  /** whose adverts it saw: "peer seen: …" only for another node's, else "only this node's own adverts seen" */
  who?: string;
  peerSeen?: boolean;
}

export function wireLines(snapshot: Snapshot): WireLines {
  try {
    const view = wireView(new CheckContext(snapshot));
    const vrids = [...view.byVrid].sort((a, b) => a.vrid - b.vrid);
    const who = wireWho(view);
    if (!vrids.length)
      return {
        captured: true,
        who: who.line,
        peerSeen: false,
        lines: [`no VRRP advert seen in ${view.seconds} s: nobody advertises on these interfaces, or they are not the VRRP ones`],
      };
    return {
      captured: true,
      who: who.line,
      peerSeen: who.peerSeen,
      lines: [`${view.adverts.length} adverts in ${view.seconds} s; ${who.line}`, ...vrids.map(describeVrid)],
    };
  } catch (err) {
    if (err instanceof SkipCheck) return { captured: false, lines: [err.message] };
    throw err;
  }
}
