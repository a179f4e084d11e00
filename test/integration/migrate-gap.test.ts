/**
 * A capture gap (the monitor connection killed) while writes go on: what MONITOR did not show is
 * made right by the rescan of that master and the sweep of target keys gone from the source.
 */
import type {ChildProcess} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli';
import {compareStandalone, migrationFixture} from '../helpers/migration';
import {waitFor} from '../helpers/redis';

const {pair, stateDir} = migrationFixture();

describe('keyferry migrate, a capture gap', () => {
	it('re-copies and sweeps the keys written and deleted while MONITOR was gone', async () => {
		const [source, target] = await pair();
		const client = source.client();
		const seed = client.pipeline();
		for (let i = 0; i < 500; i++) seed.set(`keep:${i}`, `v${i}`).set(`gone:${i}`, `v${i}`);
		await seed.exec();
		const seen: Array<Record<string, unknown>> = [];
		const cut = async (child: ChildProcess) => {
			const list = String(await client.call('CLIENT', 'LIST'));
			const id = /id=(\d+) [^\n]*name=keyferry-monitor/.exec(list)?.[1];
			expect(id).toBeDefined();
			// Back to back on one connection: the monitor is gone before the writes run, and it
			// reconnects no sooner than 100 ms later.
			const unseen = client.pipeline().call('CLIENT', 'KILL', 'ID', id!);
			for (let i = 0; i < 500; i++) unseen.del(`gone:${i}`).set(`keep:${i}`, `changed${i}`);
			unseen.set('new:during-gap', 'x');
			await unseen.exec();
			await waitFor(async () => seen.some((event) => String(event['message']).startsWith('sweep of')), 'the sweep');
			await waitFor(async () => (await target.client().exists('gone:499')) === 0 && (await target.client().get('keep:499')) === 'changed499', 'the gap repaired');
			child.kill('SIGTERM');
		};
		let cutting = false;
		const result = await runCli(['migrate', '--headless', '--yes', '--state-dir', stateDir(), '--source', source.url, '--target', target.url], {
			timeoutMs: 60_000,
			onEvent: (event, child) => {
				seen.push(event);
				if (cutting || event.type !== 'stage' || event['stage'] !== 'sync') return;
				cutting = true;
				void cut(child);
			},
		});
		expect(result.code, result.stderr).toBe(0);
		expect(result.events.filter((event) => event.type === 'gap')).toHaveLength(1);
		expect(result.events.find((event) => String(event['message']).startsWith('sweep of'))?.['message']).toMatch(/sweep of 127\.0\.0\.1:\d+: 500 target key\(s\) gone/);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 90_000);
});
