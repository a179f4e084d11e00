import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {Cluster} from 'ioredis';
import {startCluster, startStandalone, type TestCluster, type TestServer} from '../helpers/redis';

describe('test redis helper', () => {
	let server: TestServer;
	let cluster: TestCluster;
	beforeAll(async () => {
		[server, cluster] = await Promise.all([startStandalone(), startCluster()]);
	});
	afterAll(async () => {
		await Promise.all([server?.stop(), cluster?.stop()]);
	});

	it('starts a standalone server', async () => {
		expect(await server.client().ping()).toBe('PONG');
	});

	it('starts a 3-master cluster that routes keys', async () => {
		const client = new Cluster([{host: '127.0.0.1', port: cluster.masters[0]!.port}]);
		try {
			for (let i = 0; i < 30; i++) await client.set(`k${i}`, String(i));
			expect(await client.get('k7')).toBe('7');
			const counts = await Promise.all(cluster.masters.map((m) => m.client().dbsize()));
			expect(counts.filter((n) => n > 0)).toHaveLength(3);
		} finally {
			client.disconnect();
		}
	});
});
