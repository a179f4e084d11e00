/**
 * A transaction a cluster source discards without showing it: MULTI is shown, then the slot of
 * its queued command moves away and EXEC is refused with MOVED before it runs, so neither the
 * block nor EXEC ever shows. The client's later commands run on their own and must be replayed
 * as such, not buffered forever as the queued commands of a transaction that no longer exists.
 */
import {mkdtempSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {keySlot} from '../../source/replay/cluster-routing';
import {runCli} from '../helpers/cli';
import {startCluster, startStandalone} from '../helpers/redis';
import {serversFixture} from '../helpers/servers-fixture';
import {compareAll} from './migrate-cluster-run';

const {track, stateRoot, admin} = serversFixture();

/** Hash tags whose slots the first master serves (it has slots 0-5460). */
function tagsOnFirstMaster(count: number): string[] {
	const tags: string[] = [];
	for (let i = 0; tags.length < count && i < 10_000; i++) if (keySlot(Buffer.from(`{d${i}}`)) <= 5460) tags.push(`{d${i}}`);
	return tags;
}

describe('keyferry migrate from a cluster that discards a transaction unseen', () => {
	it('replays the client\'s later commands on their own', async () => {
		const [source, target] = await Promise.all([startCluster({masters: 3}).then(track), startStandalone().then(track)]);
		const [first, second] = [source.masters[0]!, source.masters[1]!];
		const [moving, staying] = tagsOnFirstMaster(2) as [string, string];
		const seed = admin(first.port);
		for (let i = 0; i < 50; i++) await seed.set(`${staying}:seed:${i}`, String(i));
		let refused = '';
		let stopping = false;
		const app = async (child: import('node:child_process').ChildProcess) => {
			const client = admin(first.port);
			await client.call('MULTI');
			expect(await client.call('SET', `${moving}:queued`, 'x')).toBe('QUEUED');
			// The queued command's slot moves to the second master before EXEC.
			const secondId = String(await admin(second.port).call('CLUSTER', 'MYID'));
			for (const master of source.masters) await admin(master.port).call('CLUSTER', 'SETSLOT', String(keySlot(Buffer.from(moving))), 'NODE', secondId);
			refused = await client.call('EXEC').then(String, (error: Error) => error.message);
			await client.call('SET', `${staying}:after`, 'ran on its own');
			for (let i = 0; i < 5; i++) await client.call('INCR', `${staying}:counter`);
			await client.call('DEL', `${staying}:seed:0`);
			await new Promise((resolve) => setTimeout(resolve, 1000));
			child.kill('SIGTERM');
		};
		const result = await runCli(['migrate', '--headless', '--yes', '--verify-samples', '100', '--state-dir', mkdtempSync(join(stateRoot(), 'run-')), '--source', `redis://127.0.0.1:${first.port}`, '--target', target.url], {
			timeoutMs: 60_000,
			onEvent: (event, child) => {
				if (stopping || event.type !== 'stage' || event['stage'] !== 'sync' || event['status'] !== 'ready') return;
				stopping = true;
				void app(child);
			},
		});
		expect(result.code, result.stderr).toBe(0);
		expect(refused).toMatch(/^MOVED /);
		expect(await target.client().get(`${staying}:after`)).toBe('ran on its own');
		expect(await target.client().get(`${staying}:counter`)).toBe('5');
		const compared = await compareAll({cluster: source}, {server: target});
		expect(compared.discrepancies).toEqual([]);
		expect(compared.checked).toBeGreaterThan(40);
	}, 90_000);
});
