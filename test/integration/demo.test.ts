/**
 * `keyferry demo` as a newcomer runs it: real redis-servers, seeding, traffic and a real migration,
 * stopped with a signal — and nothing it started is left running afterwards.
 */
import {existsSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {pings} from '../../source/demo/local-servers';
import {bundlePath, runCli, type CliResult} from '../helpers/cli';

let nodeOnly: string;

beforeAll(() => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	nodeOnly = mkdtempSync(join(tmpdir(), 'keyferry-node-only-'));
	symlinkSync(process.execPath, join(nodeOnly, 'node'));
});

afterAll(() => rmSync(nodeOnly, {recursive: true, force: true}));

/** The two ports the demo announced in its `info` event. */
function announcedPorts(result: CliResult): number[] {
	const info = result.events.find((event) => event.type === 'info' && String(event['message']).startsWith('demo servers:'));
	return [...String(info?.['message']).matchAll(/redis:\/\/127\.0\.0\.1:(\d+)/g)].map((match) => Number(match[1]));
}

describe('keyferry demo', () => {
	it('migrates between two local servers under traffic, drains on SIGTERM and stops both servers', async () => {
		let servers = '';
		let aliveDuringSync: boolean[] = [];
		const result = await runCli(['demo', '--headless', '--yes', '--keys', '2000', '--rate', '200'], {
			timeoutMs: 90_000,
			onEvent: (event, child) => {
				if (event.type === 'info' && String(event['message']).startsWith('demo servers:')) servers = String(event['message']);
				if (event.type === 'stage' && event['stage'] === 'sync' && event['status'] === 'running') {
					const ports = [...servers.matchAll(/redis:\/\/127\.0\.0\.1:(\d+)/g)].map((match) => Number(match[1]));
					// Let the sync run under traffic for a moment, then stop the demo as an operator would.
					void Promise.all(ports.map(pings)).then((alive) => {
						aliveDuringSync = alive;
						setTimeout(() => child.kill('SIGTERM'), 1500);
					});
				}
			},
		});
		expect(result.code, result.stderr).toBe(0);
		expect(aliveDuringSync).toEqual([true, true]);
		expect(announcedPorts(result)).toHaveLength(2);
		const stages = result.events.filter((event) => event.type === 'stage').map((event) => `${event['stage']}:${event['status']}`);
		expect(stages.slice(0, 6)).toEqual(['preflight:running', 'preflight:ready', 'capture:running', 'capture:ready', 'copy:running', 'copy:ready']);
		expect(result.events.some((event) => event.type === 'info' && event['message'] === 'barrier passed on every master: the target holds every write made before it')).toBe(true);
		const summary = result.events.at(-1)!;
		expect(summary).toMatchObject({type: 'summary', exitCode: 0, discrepancies: 0});
		expect(summary['keysCopied']).toBeGreaterThanOrEqual(2000);
		expect(result.stderr).toMatch(/keyferry demo: both redis-servers stopped, files removed; the application sent \d+ writes/);
		expect(await Promise.all(announcedPorts(result).map(pings))).toEqual([false, false]);
	});

	it('stops cleanly when signalled while it is still seeding', async () => {
		const result = await runCli(['demo', '--headless', '--yes', '--keys', '300000', '--rate', '0'], {
			timeoutMs: 60_000,
			onEvent: (event, child) => {
				if (event.type === 'info' && String(event['message']).startsWith('demo: seeding')) child.kill('SIGINT');
			},
		});
		expect(result.code, result.stderr).toBe(0);
		expect(result.events.some((event) => event.type === 'stage')).toBe(false);
		expect(result.events.some((event) => String(event['message']).startsWith('demo: seeded 300000'))).toBe(false);
		expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 0});
		expect(await Promise.all(announcedPorts(result).map(pings))).toEqual([false, false]);
	});

	it('exits 2 with an install hint when redis-server is not on PATH', async () => {
		const result = await runCli(['demo', '--headless'], {env: {PATH: nodeOnly, KEYFERRY_REDIS_SERVER: undefined}});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('redis-server not found: install it (apt-get install redis-server / brew install redis)');
		expect(result.events.map((event) => event.type)).toEqual(['error', 'summary']);
		expect(result.events[0]).toMatchObject({code: 'redis-server-missing'});
		expect(result.events[1]).toMatchObject({exitCode: 2});
	});
});
