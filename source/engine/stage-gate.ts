/**
 * Waiting for the operator: a stage that is ready advances when `advance()` is called (Enter and
 * confirmation in the console), or at once with --yes — except where `operatorOnly` says only a
 * person may decide (cutover, unless --auto-cutover). A resumed run passes at once through the
 * stages its operator already advanced into before it stopped.
 */
import {forwardStages, type Stage} from './stages';

export class StageGate {
	private waiting: (() => void) | null = null;
	private advanced = false;

	/** @param resumeThrough the furthest stage an earlier run of this migration entered, or null */
	constructor(
		private readonly autoAdvance: boolean,
		private readonly resumeThrough: Stage | null = null,
	) {}

	/** Resolves once the operator advances into `into` (immediately with --yes unless `operatorOnly`, or when a resumed run had entered it). */
	wait(into: Stage, operatorOnly = false): Promise<void> {
		if ((this.autoAdvance && !operatorOnly) || this.advanced || this.entered(into)) {
			this.advanced = false;
			return Promise.resolve();
		}
		return new Promise((resolve) => {
			this.waiting = () => {
				this.waiting = null;
				resolve();
			};
		});
	}

	/** Called by the operator's action; ignored unless the engine is waiting. */
	advance(): boolean {
		if (!this.waiting) return false;
		this.waiting();
		return true;
	}

	private entered(stage: Stage): boolean {
		if (this.resumeThrough === null) return false;
		const index = forwardStages.indexOf(stage);
		return index >= 0 && index <= forwardStages.indexOf(this.resumeThrough);
	}
}
