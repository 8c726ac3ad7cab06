// The change engine's public API (no React here): the wizard and the CLI use these.
export { applyPlan, undoChange, confirmPending, runRollbackTimer, stepLabel, validatePlan, PlanInvalid } from './engine.js';
export type { ApplyOptions, ApplyResult, ChangeOutcome, StepEvent, CommandOutcome } from './engine.js';
export { planPreview, renderPreview, CONFIRM_WORD, confirmAccepted } from './preview.js';
export type { PreviewModel, PreviewStep } from './preview.js';
export { listChanges, readManifest } from './manifest.js';
export type { ChangeManifest, ChangeState } from './manifest.js';
export { changePaths } from './paths.js';
export type { ChangePaths } from './paths.js';
export { mergePlans } from './cli.js';
export * from './persistence.js';
