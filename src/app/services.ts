// Everything the app asks of the rest of the program, behind one interface: the real one loads
// the pipeline, the change engine and generate lazily; tests and the demo pass their own.
// No React here, and nothing here runs a command itself.
import type { LiveState } from '../watch/watcher.js';
import type { WatchEvent } from '../watch/events.js';
import type { CheckStatus, CollectOptions, Finding, FixPlan, ProbeRecord, Report, Snapshot } from '../types.js';
import type { PreviewLine } from './logic/findings.js';
import type { PeerApplied, PeerOpen, PeerPreview } from '../generate/peer.js';

export interface CheckInfo {
  id: string;
  title: string;
}

export interface HostInterface {
  name: string;
  /** IPv4 address/prefix pairs, e.g. 192.168.100.2/24 */
  ipv4: string[];
  internal: boolean;
}

export interface ApplyStepEvent {
  index: number;
  total: number;
  text: string;
  status: 'running' | 'done' | 'failed' | 'tolerated' | 'undone' | 'restored' | 'already';
  detail?: string;
}

export interface ApplyOutcome {
  /** applied: the re-check no longer reports the codes; rolled-back: it still did (or a step failed) and the engine undid it */
  status: 'applied' | 'rolled-back' | 'failed' | 'refused' | 'nothing-to-do';
  message: string;
  changeId?: string;
  /** the report of the re-check, when one ran */
  report?: Report;
  /** set when a confirm timeout was armed: the change rolls back by itself at this time unless confirmed */
  confirmDeadline?: Date;
}

export interface ApplyRequest {
  findings: Finding[];
  recheck: () => Promise<Report>;
  confirmTimeout?: number;
  onStep: (e: ApplyStepEvent) => void;
  /** aborted: the engine finishes the step in flight, then rolls back what it did */
  signal?: AbortSignal;
}

export interface FixPreview {
  lines: PreviewLine[];
  /** what is saved before the first step */
  backup: string[];
  /** what an undo cannot bring back */
  irreversible: string[];
  /** the word to type for a disruptive plan; null: Enter confirms */
  confirmWord: string | null;
}

export type GeneratedFile = { path: string; content: string; mode?: number; /** where it is installed on the host */ installAs?: string };

export type GenerateOutcome = { ok: true; files: GeneratedFile[] } | { ok: false; errors: string[] };

export interface AppServices {
  /** set in demo mode: fixes are shown, never applied */
  demo?: { scenario: string; scenarios: string[] };
  /** the operator is on SSH (SSH_CONNECTION): offer commit-confirmed */
  ssh: boolean;
  /** --peer HOST: the other node is read with this one (the report's peer says whether it was reached) */
  peer?: string;
  checks(): Promise<readonly CheckInfo[]>;
  /** wire: also listen for VRRP adverts for a few seconds (tcpdump, root) */
  collect(onProbe: (r: ProbeRecord) => void, opts?: { wire?: boolean }): Promise<Snapshot>;
  analyse(snapshot: Snapshot, onCheck: (id: string, status: CheckStatus, findings: Finding[], reason?: string) => void): Promise<Report>;
  preview(plan: FixPlan, snapshot: Snapshot | undefined): Promise<FixPreview>;
  /** absent in demo mode */
  apply?(plan: FixPlan, req: ApplyRequest): Promise<ApplyOutcome>;
  /** keep a pending change (commit-confirmed) */
  confirm?(changeId: string): Promise<string>;
  hostInterfaces(): Promise<HostInterface[]>;
  /** the same input as the `generate` command line: flag name (without --) to value */
  generate(raw: Record<string, string | boolean | undefined>): Promise<GenerateOutcome>;
  /** write generated files into a directory (and validate them); returns a one-line result */
  writeFiles(dir: string, raw: Record<string, string | boolean | undefined>): Promise<{ ok: boolean; message: string }>;
  /** a fix plan that installs generated files on this host, when the generate module offers one */
  installPlan?(raw: Record<string, string | boolean | undefined>): Promise<FixPlan | undefined>;
  /** with --peer (never in the demo): the peer's half installed by the peer's own hagw-doctor over SSH;
   *  raw: this node's generate flags (the peer's member is mirrored from them, src/generate/peer.ts peerMemberSpec) */
  installOnPeer?(raw: Record<string, string | boolean | undefined>): PeerInstaller;
  /** the changes the doctor made (the change engine's manifests), newest first; absent in the demo */
  changes?(): Promise<ChangeSummary[]>;
  /** roll one change back from its backup (the engine's undo); a one-line result */
  undo?(changeId: string): Promise<{ ok: boolean; message: string }>;
  /** the live event stream of this node (`hagw-doctor watch`); absent in the demo */
  watch?(initial?: { snapshot: Snapshot; report: Report }): Promise<LiveWatch>;
}

/**
 * One install of the peer's half through its own hagw-doctor (src/generate/peer.ts PeerInstall):
 * open() connects and checks it can (its doctor, root), preview() is its own dry run and plan
 * fingerprint, apply(plan) installs exactly that plan there; every text is already cleaned.
 */
export interface PeerInstaller {
  /** [USER@]HOST as given to --peer */
  readonly host: string;
  open(): Promise<PeerOpen>;
  preview(): Promise<PeerPreview>;
  /** confirmTimeout: the peer rolls the change back by itself unless confirm() keeps it in time (commit-confirmed) */
  apply(plan: string, opts?: { confirmTimeout?: number }): Promise<PeerApplied>;
  /** keep the change apply() left pending: the peer's own `hagw-doctor confirm` */
  confirm(): Promise<{ ok: boolean; message: string }>;
  /** ends the session (also one still connecting); idempotent */
  close(): Promise<void>;
}

/** What Triage needs of src/watch/watcher.ts's Watcher (tests give their own). */
export interface LiveWatch {
  readonly state: LiveState;
  start(): Promise<void>;
  stop(): void;
  on(fn: (e: WatchEvent) => void): () => void;
  onState(fn: () => void): () => void;
  setWire(on: boolean): void;
  runCheck(): Promise<void>;
}

export type { CollectOptions };

export interface ChangeSummary {
  id: string;
  state: string;
  summary: string;
  /** ISO 8601 */
  when: string;
  who: string;
  host: string;
  netns: string;
  /** pending: the automatic rollback deadline */
  deadline?: string;
  /** the steps as commands, for the details */
  steps: string[];
  result?: string;
}
