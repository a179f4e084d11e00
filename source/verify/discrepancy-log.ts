/**
 * The discrepancy file of a state directory: one JSON object per line, appended as each
 * discrepancy is found, so a crash or a Ctrl+C loses none. Values in diffs are user data, hence
 * mode 0600; only the record's own fields are written, so nothing else (a password) can slip in.
 */
import {closeSync, mkdirSync, openSync, writeSync} from 'node:fs';
import {join} from 'node:path';
import type {DiscrepancyRecord} from '../engine/events';
import {KeyferryError} from '../errors';

export const discrepancyFileName = 'discrepancies.jsonl';

export class DiscrepancyLog {
	private fd: number | null;

	private constructor(
		readonly path: string,
		fd: number,
	) {
		this.fd = fd;
	}

	/** Creates the state directory when needed and opens the file for appending; a KeyferryError naming the file when it cannot. */
	static open(stateDir: string): DiscrepancyLog {
		const path = join(stateDir, discrepancyFileName);
		try {
			mkdirSync(stateDir, {recursive: true, mode: 0o700});
			return new DiscrepancyLog(path, openSync(path, 'a', 0o600));
		} catch (error) {
			throw new KeyferryError('state-file', `cannot write the discrepancy file in ${stateDir} (${(error as NodeJS.ErrnoException).code ?? String(error)}): ${path}`);
		}
	}

	append(record: DiscrepancyRecord, ts = Date.now()): void {
		if (this.fd === null) return;
		const {key, db, kind, diff} = record;
		writeSync(this.fd, `${JSON.stringify({ts, key, db, kind, diff})}\n`);
	}

	close(): void {
		if (this.fd === null) return;
		closeSync(this.fd);
		this.fd = null;
	}
}
