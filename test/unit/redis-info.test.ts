import {describe, expect, it} from 'vitest';
import {parseInfo, parseKeyspace, serverFlavor} from '../../source/redis/info';
import {shardsFromSlots} from '../../source/redis/topology';
import {compareVersions, rdbVersionFor, rdbVersionOfPayload} from '../../source/redis/versions';
import {parseClientInfo} from '../../source/redis/client-info';

describe('INFO parsing', () => {
	const text = '# Server\r\nredis_version:7.2.4\r\nrun_id:abc\r\n\r\n# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n';

	it('reads fields and the keyspace', () => {
		const fields = parseInfo(text);
		expect(fields['redis_version']).toBe('7.2.4');
		expect(parseKeyspace(fields)).toEqual({0: {keys: 10, expires: 2}, 3: {keys: 1, expires: 0}});
	});

	it.each([
		[{redis_version: '7.0.15'}, {server: 'redis', version: '7.0.15'}],
		[{redis_version: '7.2.4', server_name: 'valkey', valkey_version: '8.1.1'}, {server: 'valkey', version: '8.1.1'}],
		[{redis_version: '7.2.4', valkey_version: '9.0.0'}, {server: 'valkey', version: '9.0.0'}],
	])('server flavor %j', (fields, expected) => {
		expect(serverFlavor(fields)).toEqual(expected);
	});
});

describe('versions', () => {
	it.each([
		['redis', '6.2.14', 9],
		['redis', '7.0.15', 10],
		['redis', '7.2.5', 11],
		['redis', '7.4.1', 12],
		['redis', '8.0.2', 12],
		['redis', '9.1.0', null],
		['valkey', '7.2.8', 11],
		['valkey', '8.1.1', 11],
		['valkey', '9.0.0', 80],
	] as const)('%s %s writes RDB %s', (server, version, rdb) => {
		expect(rdbVersionFor(server, version)).toBe(rdb);
	});

	it('compares versions numerically', () => {
		expect(compareVersions('7.10.0', '7.2.0')).toBe(1);
		expect(compareVersions('6.2', '6.2.0')).toBe(0);
		expect(compareVersions('6.0.9', '6.2.0')).toBe(-1);
	});

	it('reads the RDB version from a DUMP payload trailer', () => {
		const payload = Buffer.concat([Buffer.from([0x00, 0x03, 0x61, 0x62, 0x63]), Buffer.from([10, 0]), Buffer.alloc(8)]);
		expect(rdbVersionOfPayload(payload)).toBe(10);
		expect(rdbVersionOfPayload(Buffer.alloc(3))).toBeNull();
	});
});

describe('CLIENT INFO and CLUSTER SLOTS', () => {
	it('reads the addr field', () => {
		expect(parseClientInfo('id=7 addr=127.0.0.1:51234 laddr=127.0.0.1:6379 fd=8 name= db=0\n')['addr']).toBe('127.0.0.1:51234');
	});

	it('groups slot ranges by master', () => {
		const shards = shardsFromSlots(
			[
				[0, 100, ['127.0.0.1', 7000, 'm1'], ['127.0.0.1', 7003, 'r1']],
				[101, 200, ['', 7001, 'm2']],
				[201, 300, ['127.0.0.1', 7000, 'm1']],
			],
			'10.0.0.1',
		);
		expect(shards).toEqual([
			{master: {host: '127.0.0.1', port: 7000, id: 'm1'}, replicas: [{host: '127.0.0.1', port: 7003, id: 'r1'}], slots: [[0, 100], [201, 300]]},
			{master: {host: '10.0.0.1', port: 7001, id: 'm2'}, replicas: [], slots: [[101, 200]]},
		]);
	});
});
