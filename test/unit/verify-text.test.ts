import {describe, expect, it} from 'vitest';
import {emit, emptyStats, createKeyferryStore, type KeyferryStore} from '../../source/engine/store';
import {formatProgress, formatVerifyReport, reportLimit} from '../../source/verify/verify-text';

const plain = {ascii: false, color: false};

function finishedStore(found: number, keysChecked: number, exitCode: number): KeyferryStore {
	const store = createKeyferryStore({stage: 'verify'});
	for (let i = 0; i < found; i++) emit(store, {type: 'discrepancy', key: `user:${i}`, db: i % 2, kind: 'value', diff: `"a" ≠ "b${i}"`});
	const stats = {...emptyStats('verify'), discrepancies: found, keysChecked, sampleRate: 100, discrepancyRate: found / keysChecked};
	emit(store, {type: 'summary', exitCode, durationMs: 1500, ...stats});
	return store;
}

describe('formatVerifyReport', () => {
	it('lists the first discrepancies, how many more there are, and the file', () => {
		const store = finishedStore(25, 1000, 3);
		const report = formatVerifyReport(store.getState(), {exitCode: 3, discrepancyFile: '/state/discrepancies.jsonl'}, null, plain);
		const lines = report.stdout.trimEnd().split('\n');
		expect(lines[0]).toBe('keyferry verify: 25 discrepancies in 1,000 keys checked (every key, both ways) in 1.5 s');
		expect(lines.slice(1, 1 + reportLimit)).toHaveLength(20);
		expect(lines[1]).toBe('  db0  value    user:0  "a" ≠ "b0"');
		expect(lines.at(-2)).toBe('  … and 5 more');
		expect(lines.at(-1)).toBe('discrepancy file: /state/discrepancies.jsonl');
		expect(report.stderr).toBe('');
	});

	it('says so when everything matched, in ASCII and without colors when asked', () => {
		const store = finishedStore(0, 300, 0);
		const report = formatVerifyReport(store.getState(), {exitCode: 0, discrepancyFile: '/f'}, 10_000, {ascii: true, color: false});
		expect(report.stdout).toBe('keyferry verify: no discrepancies in 300 keys checked (random keys; fewer than 10,000 exist) in 1.5 s\n');
		const ascii = formatVerifyReport(finishedStore(1, 10, 3).getState(), {exitCode: 3, discrepancyFile: '/f'}, 10, {ascii: true, color: false});
		expect(ascii.stdout).toContain('"a" != "b0"');
		expect(ascii.stdout).not.toMatch(/[^\x00-\x7f]/);
		const colored = formatVerifyReport(finishedStore(1, 10, 3).getState(), {exitCode: 3, discrepancyFile: '/f'}, 10, {ascii: false, color: true});
		expect(colored.stdout).toContain('\u001B[31m');
	});

	it('prints only the error of a failed run, pointing bad input at --help', () => {
		const store = createKeyferryStore({stage: 'verify'});
		emit(store, {type: 'error', code: 'usage', message: '--source-cluster was given but 127.0.0.1:6379 has cluster mode off'});
		emit(store, {type: 'summary', exitCode: 2, durationMs: 5, ...emptyStats('verify')});
		const report = formatVerifyReport(store.getState(), {exitCode: 2, discrepancyFile: null}, null, plain);
		expect(report).toEqual({stdout: '', stderr: 'keyferry: --source-cluster was given but 127.0.0.1:6379 has cluster mode off (see keyferry --help)\n'});
	});
});

describe('formatProgress', () => {
	it('shows keys checked, discrepancies and the rate', () => {
		const store = createKeyferryStore({stage: 'verify'});
		store.setState({stats: {...emptyStats('verify'), discrepancies: 1, ...{keysChecked: 1234, sampleRate: 567}}});
		expect(formatProgress(store.getState(), 5000, plain)).toBe('verify · 1,234 of 5,000 keys checked · 1 discrepancy · 567 keys/s');
		expect(formatProgress(store.getState(), null, {ascii: true, color: false})).toBe('verify | 1,234 keys checked | 1 discrepancy | 567 keys/s');
	});
});
