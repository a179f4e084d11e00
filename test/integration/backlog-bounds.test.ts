/**
 * What keyferry holds while the target is slow or stopped stays bounded: samples waiting for
 * markers the applier does not reach, and health probes to a target that answers nothing.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {MarkerConnection} from '../../source/copy/marker-connection';
import {Counters} from '../../source/engine/counters';
import {startTargetHealth} from '../../source/engine/target-health';
import type {NodeHealth} from '../../source/engine/store';
import {RecentKeys} from '../../source/verify/recent-keys';
import {maxUnplacedLines, Sampler} from '../../source/verify/sampler';
import {startStandalone, waitFor, type TestServer} from '../helpers/redis';

let server: TestServer;

beforeAll(async () => {
	server = await startStandalone();
	const seed = server.client().pipeline();
	for (let i = 0; i < 200; i++) seed.set(`k:${i}`, `v${i}`);
	await seed.exec();
});

afterAll(async () => {
	await server.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('bounds while the applier is behind', () => {
	it('the sampler stops taking samples once its markers wait for the applier', async () => {
		const endpoint = {host: '127.0.0.1', port: server.port, db: 0};
		const markers = await Promise.all([MarkerConnection.open(endpoint), MarkerConnection.open(endpoint)]);
		const recent = new RecentKeys();
		for (let i = 0; i < 200; i++) recent.add(0, Buffer.from(`k:${i}`));
		// No applier takes the markers' lines: the same as a target that never answers.
		const sampler = new Sampler({
			masters: () => [{endpoint, markers, dbs: () => [0], recent, recopy: () => {}}],
			counters: new Counters(),
			rate: 5000,
			ttlToleranceMs: 1000,
			repair: false,
			onDiscrepancy: () => {},
		});
		try {
			await waitFor(async () => markers.every((marker) => marker.outstanding >= maxUnplacedLines), 'samples to fill both markers');
			// Ten more ticks at 500 samples a tick would add thousands of lines without the bound.
			await sleep(1000);
			// One sample of a string is 5 lines (MULTI TYPE PTTL GET EXEC).
			for (const marker of markers) expect(marker.outstanding).toBeLessThan(maxUnplacedLines + 5);
		} finally {
			sampler.stop();
			for (const marker of markers) marker.close();
		}
	}, 30_000);

	it('target health probes do not pile up behind a stopped target', async () => {
		const target = await startStandalone();
		const client = target.client();
		const reports: NodeHealth[] = [];
		const stop = startTargetHealth(client, () => false, (health) => reports.push(health), 20);
		try {
			await waitFor(async () => reports.length > 0, 'a first health report');
			await client.config('RESETSTAT');
			target.process.kill('SIGSTOP');
			// About 50 intervals while the target answers nothing; then no new probes.
			await sleep(1000);
			stop();
			const before = reports.length;
			target.process.kill('SIGCONT');
			await waitFor(async () => reports.length > before, 'the probe that waited to finish');
			const stats = await client.info('commandstats');
			const infoCalls = Number(/cmdstat_info:calls=(\d+)/.exec(stats)?.[1] ?? 0);
			// The one probe that waited (2 INFO), and perhaps this INFO itself.
			expect(infoCalls).toBeLessThanOrEqual(3);
		} finally {
			stop();
			target.process.kill('SIGCONT');
			await target.stop();
		}
	}, 30_000);
});
