/**
 * The control socket of a real headless migration (two real redis-servers): two clients attach,
 * both get the snapshot and the updates, the watcher's actions are refused and the holder's
 * advance a stage, the controls change hands, a detach leaves the migration running, and the
 * holder stops it. The socket never carries the source's password, answers bad lines with errors,
 * replaces a stale socket and disappears on exit.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {createConnection} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {attachControl, type AttachedSession} from '../../source/control/client';
import {mirrorOf} from '../../source/control/protocol';
import {controlSocketPath} from '../../source/control/server';
import {bundlePath, runCli, type CliResult} from '../helpers/cli';
import {startStandalone, waitFor, type TestServer} from '../helpers/redis';

const password = 'pair-run-secret-7d1f';
let source: TestServer;
let target: TestServer;
let stateDir: string;

beforeAll(async () => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	[source, target] = await Promise.all([startStandalone({password}), startStandalone()]);
	stateDir = mkdtempSync(join(tmpdir(), 'kf-attach-'));
	await source.client().mset('a', '1', 'b', '2', 'c', '3');
});

afterAll(async () => {
	await Promise.all([source?.stop(), target?.stop()]);
	rmSync(stateDir, {recursive: true, force: true});
});

/** A socket file whose process was killed: the file stays, nobody listens. */
async function leaveStaleSocket(path: string): Promise<void> {
	const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
	await new Promise((resolve) => child.on('close', resolve));
	expect(statSync(path).isSocket()).toBe(true);
}

async function attachError(dir: string): Promise<{code: string; exitCode: number; message: string}> {
	try {
		await attachControl(dir, 'nobody@test', 2000);
	} catch (error) {
		const {code, exitCode, message} = error as {code: string; exitCode: number; message: string};
		return {code, exitCode, message};
	}
	throw new Error('attach succeeded');
}

/** Raw lines from the socket, for what the client library would hide. */
function rawConnection(path: string) {
	const socket = createConnection(path);
	socket.setEncoding('utf8');
	let text = '';
	socket.on('data', (chunk: string) => (text += chunk));
	const lines = () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as {type: string; code?: string; state?: unknown});
	return {socket, lines, text: () => text};
}

describe('keyferry attach over the control socket', () => {
	it('refuses a missing socket, a file that is not one, and a stale one; the migration replaces the stale one', async () => {
		const empty = mkdtempSync(join(tmpdir(), 'kf-attach-none-'));
		try {
			expect(await attachError(join(empty, 'nope'))).toMatchObject({exitCode: 2, message: expect.stringMatching(/^no state dir /)});
			expect(await attachError(empty)).toMatchObject({exitCode: 2, message: expect.stringMatching(/no control socket in .*no migration is running/)});
			writeFileSync(controlSocketPath(empty), 'not a socket');
			expect(await attachError(empty)).toMatchObject({exitCode: 2, message: expect.stringMatching(/is not a socket/)});
		} finally {
			rmSync(empty, {recursive: true, force: true});
		}
		await leaveStaleSocket(controlSocketPath(stateDir));
		expect(await attachError(stateDir)).toMatchObject({exitCode: 2, message: expect.stringMatching(/nobody is listening on .*not running/)});
	});

	it('keyferry attach without a terminal refuses in one line (exit 2)', async () => {
		const result = await runCli(['attach', '--state-dir', stateDir]);
		expect(result.code).toBe(2);
		expect(result.stdout).toBe('');
		expect(result.stderr).toMatch(/^keyferry: keyferry attach needs a terminal \(stdin and stdout\)[^\n]*\n$/);
	});

	it('pairs two clients on a running headless migration', async () => {
		let child: ChildProcess | undefined;
		const sourceUrl = `redis://:${password}@127.0.0.1:${source.port}`;
		const run: Promise<CliResult> = runCli(['migrate', '--headless', '--state-dir', stateDir, '--source', sourceUrl, '--target', target.url, '--verify-rate', '0'], {
			timeoutMs: 60_000,
			onSpawn: (spawned) => (child = spawned),
		});
		const path = controlSocketPath(stateDir);
		const sessions: AttachedSession[] = [];
		try {
			// The stale socket from the first test is replaced by the live one.
			let alice: AttachedSession | undefined;
			await waitFor(async () => {
				alice = await attachControl(stateDir, 'alice@test', 2000).catch(() => undefined);
				return alice !== undefined;
			}, 'the control socket', 20_000);
			sessions.push(alice!);
			expect(statSync(path).mode & 0o777).toBe(0o600);
			const bob = await attachControl(stateDir, 'bob@test');
			sessions.push(bob);
			const bobNotices: string[] = [];
			const aliceNotices: string[] = [];
			bob.onNotice((text) => bobNotices.push(text));
			alice!.onNotice((text) => aliceNotices.push(text));
			const a = alice!;

			// Both have the snapshot; the first client holds the controls (no local console).
			expect(bob.store.getState().migrationId).toBe(a.store.getState().migrationId);
			expect(bob.store.getState().migrationId).toMatch(/^kf-/);
			await waitFor(async () => [a, bob].every((s) => s.store.getState().pair.parties.length === 2 && s.store.getState().pair.holder === a.self), 'both parties in both mirrors');
			expect(bob.store.getState().pair.parties.map((party) => party.name)).toEqual([`alice@test#${a.self}`, `bob@test#${bob.self}`]);

			// Updates arrive: preflight becomes ready in both mirrors.
			await waitFor(async () => [a, bob].every((s) => s.store.getState().stage === 'preflight' && s.store.getState().stageStatus === 'ready'), 'preflight ready in both mirrors');
			expect(JSON.stringify(mirrorOf(a.store.getState()))).not.toContain(password);

			// The watcher's advance is refused; the holder's advances the stage.
			bob.store.getState().controls.advance();
			await waitFor(async () => bobNotices.length > 0, "the watcher's refusal");
			expect(bobNotices[0]).toBe(`watching: alice@test#${a.self} holds the controls`);
			expect(a.store.getState().stage).toBe('preflight');
			a.store.getState().controls.advance();
			await waitFor(async () => [a, bob].every((s) => s.store.getState().stage !== 'preflight'), 'the stage to advance in both mirrors');
			expect(bob.store.getState().feed.some((entry) => entry.event.type === 'info' && entry.event.message === `alice@test#${a.self}: advance`)).toBe(true);

			// Hand-over: bob asks, alice accepts; now alice watches.
			bob.store.getState().pairControls.requestControl();
			await waitFor(async () => a.store.getState().pair.request === bob.self, 'the request at the holder');
			a.store.getState().pairControls.answerRequest(true);
			await waitFor(async () => [a, bob].every((s) => s.store.getState().pair.holder === bob.self && s.store.getState().pair.request === null), 'the controls with bob');
			a.store.getState().controls.setCopyPaused(true);
			await waitFor(async () => aliceNotices.some((text) => text === `watching: bob@test#${bob.self} holds the controls`), "alice's refusal");

			// A bad line gets an error and the server goes on serving.
			const raw = rawConnection(path);
			await waitFor(async () => raw.lines().some((line) => line.type === 'snapshot'), 'the raw snapshot');
			expect(raw.text()).not.toContain(password);
			raw.socket.write('not json\n{"v":1,"type":"action","action":{"name":"flushall"}}\n{"v":9,"type":"hello","name":"x"}\n');
			await waitFor(async () => raw.lines().filter((line) => line.type === 'error').length === 3, 'three errors');
			expect(raw.lines().filter((line) => line.type === 'error').map((line) => line.code)).toEqual(['bad-json', 'bad-message', 'version']);
			raw.socket.destroy();

			// Alice detaches: the migration goes on and keeps capturing.
			a.detach();
			expect(await a.closed).toBe('detached');
			await waitFor(async () => bob.store.getState().pair.parties.length === 1, 'alice gone from the parties');
			const captured = bob.store.getState().stats.captured;
			await source.client().set('after-detach', 'yes');
			await waitFor(async () => bob.store.getState().stats.captured > captured, 'capture to go on after the detach');
			expect(child?.exitCode).toBeNull();

			// The holder stops it: drain, summary, exit 0; the socket is gone.
			bob.store.getState().controls.quit();
			expect(await bob.closed).toBe('ended');
			expect(bob.store.getState().exitCode).toBe(0);
			const result = await run;
			expect(result.code, result.stderr).toBe(0);
			expect(existsSync(path)).toBe(false);
			expect(result.stdout).not.toContain(password);
		} finally {
			for (const session of sessions) session.detach();
			child?.kill('SIGKILL');
		}
	}, 90_000);
});
