/**
 * What the applier needs from a target: ordered writes with many in flight. One implementation
 * per target kind (standalone: target-writer.ts; cluster: routed by slot).
 */
export type Arg = Buffer | string | number;

export interface ReplayWriter {
	/**
	 * Sends one command after everything sent before it that touches the same keys; resolves
	 * with the reply, or with the Error the target answered (reported unless `quiet`).
	 */
	send(db: number, command: Arg[], quiet?: boolean): Promise<unknown>;
	/** MULTI … EXEC, so the block is applied atomically as on the source. */
	transaction(db: number, commands: Arg[][]): Promise<unknown>;
	/** Resolves when there is room for more in-flight commands. */
	waitForRoom(): Promise<void>;
	/** Resolves once every command sent so far has been answered. */
	drain(): Promise<void>;
	/** Commands sent and not yet answered. */
	readonly pending: number;
}
