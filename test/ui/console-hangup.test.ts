/**
 * An SSH drop: the console's terminal disappears (the pseudo-terminal's owner is killed, so the
 * kernel sends SIGHUP and later writes fail with EIO). The migration must go on headless, log to
 * the state dir, and still drain and stop cleanly on SIGTERM.
 */
import './setup';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath} from '../helpers/cli';
import {startStandalone, waitFor, type TestServer} from '../helpers/redis';
import {openTerminal} from './pty';

let source: TestServer;
let target: TestServer;
let stateDir: string;

beforeAll(async () => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	[source, target] = await Promise.all([startStandalone(), startStandalone()]);
	stateDir = mkdtempSync(join(tmpdir(), 'keyferry-hangup-'));
	await source.client().mset('a', '1', 'b', '2');
});

afterAll(async () => {
	await Promise.all([source?.stop(), target?.stop()]);
	rmSync(stateDir, {recursive: true, force: true});
});

describe('a dropped terminal', () => {
	it('leaves the migration running headless, logging to the state dir, until SIGTERM', async () => {
		const terminal = openTerminal([process.execPath, bundlePath, 'migrate', '--state-dir', stateDir, '--source', source.url, '--target', target.url], {columns: 100, rows: 30});
		expect(await terminal.waitFor(/press Enter to advance/, 0, 20_000)).not.toBeNull();
		terminal.child.kill('SIGKILL');
		const log = join(stateDir, 'keyferry.log');
		await waitFor(async () => existsSync(log) && readFileSync(log, 'utf8').includes('terminal closed'), 'the hangup log line', 20_000);
		const pid = Number(/as pid (\d+)/.exec(readFileSync(log, 'utf8'))?.[1]);
		expect(pid).toBeGreaterThan(0);
		// Still alive and still working: writes on the source keep being captured.
		await source.client().set('after-hangup', 'yes');
		expect(() => process.kill(pid, 0)).not.toThrow();
		process.kill(pid, 'SIGTERM');
		await waitFor(async () => readFileSync(log, 'utf8').includes('"type":"summary"'), 'the summary', 30_000).catch((error: Error) => {
			throw new Error(`${error.message}; the log (${log}) ends with: ${readFileSync(log, 'utf8').slice(-300)}`);
		});
		const summary = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as {type: string; exitCode?: number}).at(-1);
		expect(summary).toMatchObject({type: 'summary', exitCode: 0});
		await waitFor(async () => {
			try {
				process.kill(pid, 0);
				return false;
			} catch {
				return true;
			}
		}, 'the process to exit', 10_000);
	}, 90_000);
});
