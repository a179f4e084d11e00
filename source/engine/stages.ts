/** The operator's flow (DESIGN.md). Rollback is reached from cutover only. */
export const stages = ['preflight', 'capture', 'copy', 'sync', 'verify', 'cutover', 'done', 'rollback'] as const;
export type Stage = (typeof stages)[number];

/** The forward path the stage bar shows; rollback branches off cutover. */
export const forwardStages: readonly Stage[] = ['preflight', 'capture', 'copy', 'sync', 'verify', 'cutover', 'done'];

/**
 * running: the stage is working toward its goal; ready: it may be advanced (the operator confirms,
 * or --yes does); failed: the engine stopped on an error; finished: nothing more will happen.
 */
export type StageStatus = 'running' | 'ready' | 'failed' | 'finished';

/** Stages whose advance needs the stage name typed, not just y. */
export const typedConfirmationStages: ReadonlySet<Stage> = new Set(['cutover', 'rollback']);

export function nextStage(stage: Stage): Stage | undefined {
	const index = forwardStages.indexOf(stage);
	return index >= 0 ? forwardStages[index + 1] : undefined;
}
