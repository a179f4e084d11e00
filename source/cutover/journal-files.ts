/**
 * Reads a journal directory's segment files without opening it as a Journal: the migrate process
 * that owns the reverse journal may still be appending to it, and Journal.open would write to it.
 * Each call reads whatever has reached the disk since the previous one, whole lines only.
 */
import {open, readdir, stat} from 'node:fs/promises';
import {join} from 'node:path';
import type {JournalRecord} from '../capture/journal';
import {MonitorParser} from '../capture/monitor-parser';
import {stateFileError} from '../engine/atomic-json';
import {KeyferryError} from '../errors';

const segmentPattern = /^(\d{20})\.seg$/;
const block = 1024 * 1024;

export class JournalFiles {
	private readonly parser: MonitorParser;
	/** Next byte to read. */
	private fetched: number;
	/** End of the last whole line handed out. */
	private position: number;

	constructor(
		private readonly dir: string,
		from: number,
	) {
		this.parser = new MonitorParser({startOffset: from});
		this.fetched = from;
		this.position = from;
	}

	/** End of the last whole line read so far. */
	get offset(): number {
		return this.position;
	}

	/** Feeds every whole line now on disk past the last one read to `onRecord`, in order. */
	async readNew(onRecord: (record: JournalRecord) => void): Promise<void> {
		for (;;) {
			const segment = await this.segmentAt(this.fetched);
			if (!segment) return;
			const length = Math.min(block, segment.end - this.fetched);
			const buffer = Buffer.allocUnsafe(length);
			let bytesRead: number;
			try {
				const file = await open(segment.path, 'r');
				try {
					({bytesRead} = await file.read(buffer, 0, length, this.fetched - segment.start));
				} finally {
					await file.close();
				}
			} catch (error) {
				throw stateFileError(`cannot read journal segment ${segment.path}: ${(error as Error).message}`);
			}
			if (bytesRead <= 0) return;
			const ends: number[] = [];
			const entries = this.parser.push(buffer.subarray(0, bytesRead), ends);
			this.fetched += bytesRead;
			entries.forEach((entry, index) => {
				const end = ends[index]!;
				onRecord({entry, start: this.position, end});
				this.position = end;
			});
		}
	}

	/** The segment holding `offset` with its current size, or null when nothing is there yet. */
	private async segmentAt(offset: number): Promise<{path: string; start: number; end: number} | null> {
		let names: string[];
		try {
			names = (await readdir(this.dir)).filter((name) => segmentPattern.test(name)).sort();
		} catch (error) {
			throw new KeyferryError('journal-read', `cannot read the journal in ${this.dir}: ${(error as Error).message}`);
		}
		const starts = names.map((name) => Number(segmentPattern.exec(name)![1]));
		if (starts.length > 0 && offset < starts[0]!) {
			throw new KeyferryError('journal-position', `journal position ${offset} in ${this.dir} was deleted (oldest kept: ${starts[0]})`);
		}
		for (let i = starts.length - 1; i >= 0; i--) {
			if (starts[i]! > offset) continue;
			const path = join(this.dir, names[i]!);
			let end: number;
			try {
				end = starts[i]! + (await stat(path)).size;
			} catch (error) {
				throw stateFileError(`cannot read journal segment ${path}: ${(error as Error).message}`);
			}
			return offset < end ? {path, start: starts[i]!, end} : null;
		}
		return null;
	}
}
