import {join} from 'node:path';

/** Where a run keeps its files: --state-dir, or ./.keyferry/<migration id>. */
export function stateDirFor(options: {stateDir: string | null}, migrationId: string): string {
	return options.stateDir ?? join('.keyferry', migrationId);
}
