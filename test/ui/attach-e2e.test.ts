/**
 * An SSH drop, then `keyferry attach`: a console migration loses its terminal (SIGHUP) and goes on
 * headless; attach reopens the console on it in a new terminal, where Enter advances a stage, q
 * then Enter detaches (the migration goes on), and a second attach stops it with q then s.
 */
import './setup';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath} from '../helpers/cli';
import {startStandalone, waitFor, type TestServer} from '../helpers/redis';
import {openTerminal, type Terminal} from './pty';

let source: TestServer;
let target: TestServer;
let stateDir: string;

beforeAll(async () => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	[source, target] = await Promise.all([startStandalone(), startStandalone()]);
	stateDir = mkdtempSync(join(tmpdir(), 'kf-attach-e2e-'));
	await source.client().mset('a', '1', 'b', '2');
});

afterAll(async () => {
	await Promise.all([source?.stop(), target?.stop()]);
	rmSync(stateDir, {recursive: true, force: true});
});

const alive = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

async function expectScreen(terminal: Terminal, pattern: RegExp, from: number, what: string, timeoutMs = 15_000): Promise<RegExpExecArray> {
	const match = await terminal.waitFor(pattern, from, timeoutMs);
	expect(match, `${what}:\n${terminal.text().slice(-2500)}`).not.toBeNull();
	return match!;
}

describe('keyferry attach after a dropped terminal', () => {
	it('says in one line that nothing runs in a state dir without a socket (exit 2)', async () => {
		const empty = mkdtempSync(join(tmpdir(), 'kf-attach-empty-'));
		try {
			const terminal = openTerminal([process.execPath, bundlePath, 'attach', '--state-dir', empty], {columns: 100, rows: 30});
			expect(await terminal.exit(10_000)).toBe(2);
			expect(terminal.text().trim()).toBe(`keyferry: no control socket in ${empty}: no migration is running with this state dir`);
		} finally {
			rmSync(empty, {recursive: true, force: true});
		}
	});

	it('reopens the console on the running migration; its keys advance, detach and stop it', async () => {
		const size = {columns: 100, rows: 30};
		const first = openTerminal([process.execPath, bundlePath, 'migrate', '--state-dir', stateDir, '--source', source.url, '--target', target.url], size);
		await expectScreen(first, /press Enter to advance to capture/, 0, 'preflight ready in the first console', 20_000);
		first.child.kill('SIGKILL');
		const log = join(stateDir, 'keyferry.log');
		await waitFor(async () => existsSync(log) && readFileSync(log, 'utf8').includes('terminal closed'), 'the hangup log line', 20_000);
		const pid = Number(/as pid (\d+)/.exec(readFileSync(log, 'utf8'))?.[1]);
		expect(readFileSync(log, 'utf8')).toContain(`keyferry attach --state-dir ${stateDir} reopens its console`);
		let pidKilled = false;
		const attachArgs = [process.execPath, bundlePath, 'attach', '--state-dir', stateDir];
		try {
			const second = openTerminal(attachArgs, size);
			await expectScreen(second, /controls: you · 1 attached/, 0, 'the attached console holding the controls');
			await expectScreen(second, /press Enter to advance to capture/, 0, 'the stage status in the attached console');
			let from = second.text().length;
			second.write('\r');
			await expectScreen(second, /Advance to capture\? \(y\/Esc\)/, from, 'the advance confirmation');
			second.write('y');
			await expectScreen(second, /capture started/, from, 'capture to start');
			from = second.text().length;
			second.write('q');
			await expectScreen(second, /Detach and leave the migration running\?/, from, 'the detach question');
			second.write('\r');
			expect(await second.exit(10_000)).toBe(0);
			expect(second.text()).toContain('detached from kf-');
			expect(alive(pid)).toBe(true);

			const third = openTerminal(attachArgs, size);
			await expectScreen(third, /controls: you · 1 attached/, 0, 'the second attach holding the controls');
			from = third.text().length;
			third.write('q');
			await expectScreen(third, /Detach and leave the migration running\?/, from, 'the detach question again');
			third.write('s');
			await expectScreen(third, /keyferry exited with code 0/, from, 'the migration to stop', 30_000);
			expect(await third.exit(10_000)).toBe(0);
			await waitFor(async () => !alive(pid), 'the migration process to exit', 10_000);
			pidKilled = true;
			expect(existsSync(join(stateDir, 'control.sock'))).toBe(false);
			expect(readFileSync(log, 'utf8').trim().split('\n').at(-1)).toMatch(/"type":"summary".*"exitCode":0/);
		} finally {
			if (!pidKilled && pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
		}
	}, 120_000);
});
