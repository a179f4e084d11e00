import {describe, expect, it} from 'vitest';
import {redactUrlText} from '../../source/config/input-text';
import {parseRedisUrl} from '../../source/config/redis-url';
import {UsageError} from '../../source/errors';

describe('parseRedisUrl', () => {
	it.each([
		['redis://127.0.0.1:6380', {host: '127.0.0.1', port: 6380, db: 0}],
		['redis://localhost', {host: 'localhost', port: 6379, db: 0}],
		['127.0.0.1:7000', {host: '127.0.0.1', port: 7000, db: 0}],
		['redis://127.0.0.1:6379/3', {host: '127.0.0.1', port: 6379, db: 3}],
		['redis://alice:s%40cret@10.0.0.1:6379/0', {host: '10.0.0.1', port: 6379, db: 0, username: 'alice', password: 's@cret'}],
		['redis://:onlypass@h:1', {host: 'h', port: 1, db: 0, password: 'onlypass'}],
		['redis://[::1]:6379', {host: '::1', port: 6379, db: 0}],
		['rediss://h:6380', {host: 'h', port: 6380, db: 0, tls: {rejectUnauthorized: true}}],
		['REDIS://h:1', {host: 'h', port: 1, db: 0}],
	])('%s', (raw, expected) => {
		expect(parseRedisUrl(raw, '--source').endpoint).toEqual(expected);
	});

	it.each([
		['', '--source is empty'],
		['http://h:1', 'must start with redis:// or rediss://'],
		['redis://h:99999', 'not a valid URL'],
		['redis://h:0', 'invalid port'],
		['redis://h:1/x', 'invalid db "/x"'],
		['redis://h:1/1/2', 'invalid db'],
		['redis://h:1?db=2', 'must not carry query options'],
		['redis://', 'has no host'],
		['redis://u:p%zz@h:1', 'badly escaped'],
	])('rejects %j', (raw, message) => {
		expect(() => parseRedisUrl(raw, '--source')).toThrow(UsageError);
		expect(() => parseRedisUrl(raw, '--source')).toThrow(message);
	});

	it('never repeats a password in a message', () => {
		for (const raw of ['redis://u:hunter2@h:1?x=1', 'redis://u:hunter2@h:1/abc', 'ftp://u:hunter2@h']) {
			try {
				parseRedisUrl(raw, '--target');
				expect.unreachable();
			} catch (error) {
				expect((error as Error).message).not.toContain('hunter2');
			}
		}
	});

	it('redacts url text', () => {
		expect(redactUrlText('redis://u:hunter2@h:1')).toBe('redis://u:***@h:1');
		expect(redactUrlText('redis://h:1')).toBe('redis://h:1');
	});
});
