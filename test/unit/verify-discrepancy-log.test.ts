import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {DiscrepancyRecord} from '../../source/engine/events';
import {DiscrepancyLog, discrepancyFileName} from '../../source/verify/discrepancy-log';

const dirs: string[] = [];
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

function stateDir(): string {
	const root = mkdtempSync(join(tmpdir(), 'keyferry-log-'));
	dirs.push(root);
	return join(root, 'nested', 'state');
}

const lines = (path: string) =>
	readFileSync(path, 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('DiscrepancyLog', () => {
	it('creates the state dir and a 0600 file, one JSON line per record', () => {
		const dir = stateDir();
		const log = DiscrepancyLog.open(dir);
		expect(log.path).toBe(join(dir, discrepancyFileName));
		log.append({key: 'user:1', db: 0, kind: 'missing', diff: 'string missing on target'}, 1000);
		log.append({key: 'a\\x00b', db: 3, kind: 'value', diff: 'field "f": "1" ≠ "2"'}, 2000);
		log.close();
		expect(statSync(log.path).mode & 0o777).toBe(0o600);
		expect(statSync(dir).mode & 0o777).toBe(0o700);
		expect(lines(log.path)).toEqual([
			{ts: 1000, key: 'user:1', db: 0, kind: 'missing', diff: 'string missing on target'},
			{ts: 2000, key: 'a\\x00b', db: 3, kind: 'value', diff: 'field "f": "1" ≠ "2"'},
		]);
	});

	it('appends to an existing file and writes only the record fields', () => {
		const dir = stateDir();
		const first = DiscrepancyLog.open(dir);
		first.append({key: 'k1', db: 0, kind: 'extra', diff: 'string exists only on target'});
		first.close();
		const second = DiscrepancyLog.open(dir);
		const sneaky = {key: 'k2', db: 1, kind: 'ttl', diff: 'ttl none ≠ 5000ms', password: 'hunter2'} as DiscrepancyRecord;
		second.append(sneaky);
		second.close();
		second.append(sneaky);
		const written = lines(second.path);
		expect(written.map((line) => line['key'])).toEqual(['k1', 'k2']);
		expect(readFileSync(second.path, 'utf8')).not.toContain('hunter2');
		expect(Object.keys(written[1]!).sort()).toEqual(['db', 'diff', 'key', 'kind', 'ts']);
	});
});
