/**
 * Waiting for the operator: a stage that is ready advances when `advance()` is called (Enter and
 * confirmation in the console), or at once with --yes — except where `operatorOnly` says only a
 * person may decide (cutover, unless --auto-cutover).
 */
export class StageGate {
	private waiting: (() => void) | null = null;
	private advanced = false;

	constructor(private readonly autoAdvance: boolean) {}

	/** Resolves once the operator advances (immediately with --yes, unless `operatorOnly`). */
	wait(operatorOnly = false): Promise<void> {
		if ((this.autoAdvance && !operatorOnly) || this.advanced) {
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
}
