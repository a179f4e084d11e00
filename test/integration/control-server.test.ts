/**
 * The control server on a store made for the test (no migration needed): the local console holds
 * first, an unanswered request is granted, an idle holder hands over at once, the local console
 * leaving passes the controls on, an oversized line is refused, and the socket goes on close.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {createConnection} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {attachControl} from '../../source/control/client';
import {startControlServer} from '../../source/control/server';
import {createKeyferryStore} from '../../source/engine/store';
import {waitFor} from '../helpers/redis';

const dirs: string[] = [];
afterAll(() => {
	for (const dir of dirs) rmSync(dir, {recursive: true, force: true});
});

function stateDir(): string {
	const dir = mkdtempSync(join(tmpdir(), 'kf-ctl-'));
	dirs.push(dir);
	return dir;
}

describe('the control server', () => {
	it('arbitrates the controls between the local console and a client', async () => {
		const dir = stateDir();
		const store = createKeyferryStore({migrationId: 'kf-test'});
		const server = await startControlServer({store, stateDir: dir, holderIdleMs: 400, requestAnswerMs: 300});
		try {
			const local = server.joinLocal('ops@bastion');
			const client = await attachControl(dir, 'alice@box');
			await waitFor(async () => store.getState().pair.parties.length === 2, 'the client to join');
			expect(store.getState().pair.holder).toBe(local);

			// The local console was active a moment ago: the request waits, then is granted unanswered.
			client.store.getState().pairControls.requestControl();
			await waitFor(async () => store.getState().pair.request === client.self, 'the request');
			await waitFor(async () => store.getState().pair.holder === client.self, 'the unanswered request to be granted', 5000);
			expect(store.getState().feed.map((entry) => (entry.event.type === 'info' ? entry.event.message : ''))).toContain(
				`alice@box#${client.self} took the controls (ops@bastion#${local} did not answer)`,
			);

			// The client has been idle longer than holderIdleMs: the local console's request is granted at once.
			await new Promise((resolve) => setTimeout(resolve, 500));
			store.getState().pairControls.requestControl();
			expect(store.getState().pair.holder).toBe(local);

			// The local console's terminal closes: the client holds again.
			server.leaveLocal();
			expect(store.getState().pair).toMatchObject({holder: client.self, parties: [{id: client.self, kind: 'client'}]});
			await waitFor(async () => client.store.getState().pair.holder === client.self, 'the mirror to follow');
			client.detach();
			expect(await client.closed).toBe('detached');
		} finally {
			await server.close();
		}
		expect(existsSync(join(dir, 'control.sock'))).toBe(false);
	});

	it('refuses an oversized line and keeps serving others', async () => {
		const dir = stateDir();
		const store = createKeyferryStore({migrationId: 'kf-test'});
		const server = await startControlServer({store, stateDir: dir});
		try {
			const socket = createConnection(join(dir, 'control.sock'));
			socket.setEncoding('utf8');
			let text = '';
			socket.on('data', (chunk: string) => (text += chunk));
			const closed = new Promise((resolve) => socket.on('close', resolve));
			socket.write('x'.repeat(70 * 1024));
			await closed;
			expect(text).toContain('"code":"line-too-long"');
			const client = await attachControl(dir, 'bob@box');
			expect(client.store.getState().migrationId).toBe('kf-test');
			client.detach();
		} finally {
			await server.close();
		}
	});
});
