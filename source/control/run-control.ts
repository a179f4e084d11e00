/**
 * The control socket for one `keyferry migrate` run: opened in the state dir before preflight so
 * a console can attach at any stage. A socket that cannot be opened costs only `keyferry attach`:
 * the migration goes on, with a warning in its log.
 */
import {existsSync, mkdirSync} from 'node:fs';
import {emit, type KeyferryStore} from '../engine/store';
import {describeError} from '../errors';
import {removeIfEmpty, startControlServer, type ControlServer} from './server';

export async function openRunControl(store: KeyferryStore, stateDir: string): Promise<ControlServer | null> {
	const existed = existsSync(stateDir);
	try {
		mkdirSync(stateDir, {recursive: true});
		const server = await startControlServer({store, stateDir});
		return {
			...server,
			async close() {
				await server.close();
				if (!existed) removeIfEmpty(stateDir);
			},
		};
	} catch (error) {
		const {message} = describeError(error);
		emit(store, {type: 'warning', code: 'control-socket', message});
		return null;
	}
}
