/**
 * One keyferry per state dir: two processes appending to the same journal and checkpoints would
 * corrupt both. `<state-dir>/lock` names the holder's pid and host; a lock whose process is gone
 * (kill -9, a crash) is taken over, so a resume after a crash never needs a manual cleanup.
 */
import {closeSync, openSync, readFileSync, unlinkSync, writeSync} from 'node:fs';
import {hostname} from 'node:os';
import {join} from 'node:path';
import {UsageError} from '../errors';

export const lockFileName = 'lock';

export interface StateLock {
	release(): void;
}

interface Holder {
	pid: number;
	host: string;
}

export function lockStateDir(stateDir: string): StateLock {
	const path = join(stateDir, lockFileName);
	const me: Holder = {pid: process.pid, host: hostname()};
	for (let attempt = 0; attempt < 3; attempt++) {
		let fd: number;
		try {
			fd = openSync(path, 'wx', 0o600);
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code !== 'EEXIST') throw new UsageError(`cannot lock the state directory ${stateDir} (${code ?? String(error)}); choose another --state-dir`, 'state-dir');
			const holder = readHolder(path);
			if (holder && holder.host !== me.host) {
				throw new UsageError(`${stateDir} is locked by keyferry pid ${holder.pid} on ${holder.host}; run it there, or remove ${path} if that process is gone`, 'state-dir-locked');
			}
			if (holder && holder.pid !== me.pid && alive(holder.pid)) {
				throw new UsageError(`another keyferry (pid ${holder.pid}) is running on ${stateDir}; attach to it with keyferry attach --state-dir ${stateDir}`, 'state-dir-locked');
			}
			// Left by a process that is gone, or unreadable (cut short by a crash while written).
			try {
				unlinkSync(path);
			} catch {
				// Another keyferry took it over first: the next attempt finds its lock.
			}
			continue;
		}
		try {
			writeSync(fd, `${JSON.stringify(me)}\n`);
		} finally {
			closeSync(fd);
		}
		return {
			release() {
				if (readHolder(path)?.pid !== me.pid) return;
				try {
					unlinkSync(path);
				} catch {
					// Already gone.
				}
			},
		};
	}
	throw new UsageError(`cannot lock the state directory ${stateDir}: another keyferry keeps taking it`, 'state-dir-locked');
}

function readHolder(path: string): Holder | null {
	try {
		const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
		return Number.isSafeInteger(raw.pid) && typeof raw.host === 'string' ? {pid: raw.pid!, host: raw.host} : null;
	} catch {
		return null;
	}
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: the process exists but belongs to someone else.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
