/**
 * State files that must never be read half written: the JSON goes to a temporary file, is synced,
 * then renamed over the old one, and the directory is synced so the rename survives a crash.
 */
import {open, readFile, rename} from 'node:fs/promises';
import {dirname} from 'node:path';
import {KeyferryError} from '../errors';

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

/** The parsed file, or null when it does not exist; any other problem is a KeyferryError naming the file. */
export async function readJson(path: string): Promise<unknown> {
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
		throw new KeyferryError('state-file', `cannot read ${path}: ${(error as Error).message}`);
	}
	try {
		return JSON.parse(text) as unknown;
	} catch {
		throw new KeyferryError('state-file', `${path} is not valid JSON`);
	}
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
