/**
 * Which keys the application changed on the target since cutover, from the reverse journal's
 * lines. Pure. A key listed here may have ended up unchanged (written back to what it was); the
 * rollback preview compares each one, so listing too many is only slower, never wrong. What the
 * journal cannot tell (a capture gap, FLUSHALL, SWAPDB, an unreadable line) makes it `incomplete`:
 * the preview then compares every key instead.
 */
import type {MonitorEntry} from '../capture/monitor-parser';
import {planCommand} from '../replay/plan-command';

export interface ChangedKey {
	db: number;
	key: Buffer;
}

export class ChangedKeys {
	private readonly found = new Map<string, ChangedKey>();
	/** Commands keyferry does not know; only the server can say which keys they touch (COMMAND GETKEYS). */
	readonly unknown: Array<{db: number; args: Buffer[]}> = [];
	/** Why the journal cannot list every changed key, or null while it can. */
	incomplete: string | null = null;

	/** @param excluded client addresses whose lines are keyferry's own, not the application's */
	constructor(private readonly excluded: ReadonlySet<string> = new Set()) {}

	get size(): number {
		return this.found.size;
	}

	keys(): ChangedKey[] {
		return [...this.found.values()];
	}

	add(db: number, key: Buffer): ChangedKey {
		const id = `${db}:${key.toString('latin1')}`;
		let found = this.found.get(id);
		if (!found) {
			found = {db, key};
			this.found.set(id, found);
		}
		return found;
	}

	/** Takes one line; returns the keys it changed (known before or not). */
	feed(entry: MonitorEntry): ChangedKey[] {
		if (entry.kind === 'gap') {
			this.incomplete ??= `the reverse capture missed ${Math.round(entry.toMs - entry.fromMs)} ms (${entry.reason})`;
			return [];
		}
		if (entry.kind === 'malformed') {
			this.incomplete ??= `an unreadable line in the reverse journal (${entry.reason})`;
			return [];
		}
		if (this.excluded.has(entry.client)) return [];
		const plan = planCommand(entry.args, {tsMs: entry.ts / 1000, skewMs: 0});
		const db = entry.db;
		switch (plan.action) {
			case 'drop':
			case 'transaction':
				return [];
			case 'apply':
			case 'block':
				return plan.keys.map((key) => this.add(db, key));
			case 'recopy':
				if (plan.keys !== null) return plan.keys.map((key) => this.add(db, key));
				this.unknown.push({db, args: entry.args});
				return [];
			case 'flush':
			case 'swapdb':
				this.incomplete ??= `${entry.args[0]!.toString('latin1').toUpperCase()} ran on the target`;
				return [];
			case 'move':
				return [this.add(db, plan.key), this.add(plan.toDb, plan.key)];
			case 'copy':
				return [this.add(plan.toDb ?? db, plan.to)];
			case 'migrate':
				return plan.copy ? [] : plan.keys.map((key) => this.add(db, key));
		}
	}
}
