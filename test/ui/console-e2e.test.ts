/**
 * The operator's path, end to end: the built CLI in a pseudo-terminal (util-linux `script`) against
 * two real redis-servers. It advances every stage the engine offers with Enter and y (typing the
 * stage name where one is asked for), then quits with q and y, and expects a clean exit and a
 * target holding the source's keys.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath} from '../helpers/cli';
import {startStandalone, type TestServer} from '../helpers/redis';
import {openTerminal} from './pty';

let source: TestServer;
let target: TestServer;
let stateDir: string;
const keyCount = 3000;

beforeAll(async () => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	[source, target] = await Promise.all([startStandalone(), startStandalone()]);
	stateDir = mkdtempSync(join(tmpdir(), 'keyferry-state-'));
	const client = source.client();
	const pipeline = client.pipeline();
	for (let i = 0; i < keyCount; i++) pipeline.set(`user:${i}`, `value-${i}`);
	await pipeline.exec();
});

afterAll(async () => {
	await Promise.all([source?.stop(), target?.stop()]);
	rmSync(stateDir, {recursive: true, force: true});
});

describe('keyferry migrate in a terminal', () => {
	it('advances through the stages with Enter and quits cleanly with q', async () => {
		const terminal = openTerminal([process.execPath, bundlePath, 'migrate', '--source', source.url, '--target', target.url, '--state-dir', stateDir], {columns: 100, rows: 30});
		try {
			const advanced: string[] = [];
			let from = 0;
			for (;;) {
				// The footer says when a stage is ready; nothing advances on its own.
				const ready = await terminal.waitFor(/(\w+) is ready: [^\n]*press Enter to advance to (\w+)/, from, advanced.length === 0 ? 20_000 : 6000);
				if (!ready) break;
				const [, stage, next] = ready;
				from = terminal.text().length;
				terminal.write('\r');
				const asked = await terminal.waitFor(new RegExp(`Advance to ${next}\\? \\(y/Esc\\)|Type ${next} to confirm`), from, 5000);
				expect(asked, `no confirmation for ${next}:\n${terminal.text().slice(-3000)}`).not.toBeNull();
				if (asked![0].startsWith('Type')) {
					terminal.write(next!);
					terminal.write('\r');
				} else {
					terminal.write('y');
				}
				advanced.push(stage!);
				const started = await terminal.waitFor(new RegExp(`${next} started`), from, 15_000);
				expect(started, `${next} did not start:\n${terminal.text().slice(-3000)}`).not.toBeNull();
				from = terminal.text().length;
			}
			expect(advanced.slice(0, 3), terminal.text().slice(-3000)).toEqual(['preflight', 'capture', 'copy']);

			from = terminal.text().length;
			terminal.write('q');
			expect(await terminal.waitFor(/Quit\? Drains to a barrier first \(y\/Esc\)/, from, 5000)).not.toBeNull();
			terminal.write('y');
			const code = await terminal.exit(20_000);
			const screen = terminal.text();
			expect(code, screen.slice(-3000)).toBe(0);
			expect(screen).toContain('keyferry exited with code 0: clean exit');
			expect(screen).toContain(`${keyCount.toLocaleString('en-US')} keys copied`);
			expect(await target.client().dbsize()).toBe(keyCount);
		} finally {
			terminal.child.kill('SIGKILL');
		}
	});
});
