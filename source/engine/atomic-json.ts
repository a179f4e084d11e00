/**
 * State files that must never be read half written: the JSON goes to a temporary file, is synced,
 * then renamed over the old one, and the directory is synced so the rename survives a crash.
 */
import {open, readFile, rename} from 'node:fs/promises';
import {dirname} from 'node:path';
import {ExitCode, KeyferryError} from '../errors';

export async function writeJsonAtomic(path: string, value: unknown, mode = 0o600): Promise<void> {
	const temporary = `${path}.tmp`;
	const file = await open(temporary, 'w', mode);
	try {
		await file.writeFile(`${JSON.stringify(value, null, '\t')}\n`);
		await file.sync();
	} finally {
		await file.close();
	}
	await rename(temporary, path);
	await syncDirectory(dirname(path));
}

/**
 * The parsed file, or undefined when it does not exist (a file holding `null` is not missing). Any
 * other problem is bad input: a KeyferryError (exit 2) naming the file.
 */
export async function readJson(path: string): Promise<unknown> {
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') return undefined;
		const reason = code === 'EISDIR' ? 'it is a directory' : code === 'ENOTDIR' ? 'its directory is a file' : (error as Error).message;
		throw stateFileError(`cannot read ${path}: ${reason}`);
	}
	try {
		return JSON.parse(text) as unknown;
	} catch {
		throw stateFileError(text.trim() === '' ? `${path} is empty` : `${path} is not valid JSON (damaged or cut short)`);
	}
}

/**
 * A state file of one kind: null when it does not exist, the record `parse` makes of it, or a
 * KeyferryError (exit 2) naming the file when it is not what keyferry wrote.
 */
export async function readStateFile<T>(path: string, parse: (raw: unknown) => T | null, kind: string): Promise<T | null> {
	const raw = await readJson(path);
	if (raw === undefined) return null;
	const record = parse(raw);
	if (!record) throw stateFileError(`${path} is not ${kind} keyferry wrote`);
	return record;
}

/** A state file keyferry cannot use. */
export function stateFileError(message: string): KeyferryError {
	return new KeyferryError('state-file', message, ExitCode.usage);
}

async function syncDirectory(dir: string): Promise<void> {
	try {
		const handle = await open(dir, 'r');
		try {
			await handle.sync();
		} finally {
			await handle.close();
		}
	} catch {
		// Not every platform can fsync a directory; the rename is still atomic.
	}
}
