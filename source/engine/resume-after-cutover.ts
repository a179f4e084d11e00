/**
 * A migration resumed after its cutover point was recorded: the source is no longer followed,
 * so nothing forward is opened. The cutover stage picks up in stage done: the reverse capture
 * starts again and the rollback preview follows the target as before.
 */
import type {CutoverPoint} from '../cutover/cutover-point';
import {CutoverStage} from '../cutover/cutover-stage';
import type {Pipeline, PipelineContext} from './pipeline';
import type {ProgressWriter} from './progress-record';
import {runFailure} from './run-failure';
import {emit} from './store';

export interface ResumeAfterCutoverContext extends PipelineContext {
	stateDir: string;
	progress: ProgressWriter;
	point: CutoverPoint;
	wasRollingBack: boolean;
}

export async function resumeAfterCutover(context: ResumeAfterCutoverContext): Promise<Pipeline> {
	const {store, point} = context;
	const {done, failWith} = runFailure(store);
	const reverse = point.reverse[0];
	const cutover = new CutoverStage({
		...context,
		...(reverse ? {resumedReverse: {master: reverse.master, dir: reverse.dir, fromOffset: reverse.fromOffset, excludedClients: reverse.excludedClients}} : {}),
		drain: () => Promise.resolve(point.barriers),
		stopForward: () => Promise.resolve(),
		onReplayError: (error, command) => emit(store, {type: 'warning', code: 'replay-error', message: `source refused ${String(command[0])}: ${error.message.split('\n')[0]}`}),
		fail: failWith,
	});
	try {
		await cutover.resumeDone(point, context.wasRollingBack);
	} catch (error) {
		await cutover.stop(false);
		throw error;
	}
	return {
		done,
		setCopyPaused: () => {},
		setCopyRate: () => {},
		verifyNow: () => false,
		rollback: () => cutover.rollback(),
		drainAndStop: () => cutover.stop(true),
		abort: () => cutover.stop(false),
	};
}

