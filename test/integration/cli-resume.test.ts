/**
 * `keyferry migrate --resume` refusals through the built CLI: exit 2, one error line, no stack
 * trace, nothing connected to. The state dir is read before any server is reached, so no server
 * is needed here (port 1 on loopback: nothing listens, and nothing must even be tried).
 */
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath, runCli} from '../helpers/cli';

let root: string;
beforeAll(() => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	root = mkdtempSync(join(tmpdir(), 'keyferry-cli-resume-'));
});
afterAll(() => rmSync(root, {recursive: true, force: true}));

const servers = ['--source', 'redis://127.0.0.1:1', '--target', 'redis://127.0.0.1:1/2'];
const migration = {
	version: 1,
	migrationId: 'm-cli',
	createdAt: 1,
	source: {host: '127.0.0.1', port: 1, db: 0, tls: false, cluster: false},
	target: {host: '127.0.0.1', port: 1, db: 2, tls: false, cluster: false},
	dbMap: [],
	clockSkewMs: 0,
};

function stateDirWith(files: Record<string, unknown>): string {
	const dir = mkdtempSync(join(root, 'run-'));
	for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
	return dir;
}

async function refused(args: string[], message: RegExp, cwd?: string): Promise<void> {
	const result = await runCli(['migrate', '--headless', ...args], {timeoutMs: 15_000, ...(cwd ? {cwd} : {})});
	expect(result.code, result.stderr).toBe(2);
	const lines = result.stderr.trim().split('\n');
	expect(lines).toHaveLength(1);
	expect(lines[0]).toMatch(message);
	expect(result.stderr).not.toMatch(/\n\s+at /);
	expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 2});
}

describe('keyferry migrate --resume refusals', () => {
	it('a state dir with no migration in it', async () => {
		await refused(['--resume', '--state-dir', stateDirWith({}), ...servers], /^keyferry: --resume: .* holds no migration to resume \(no migration\.json\)/);
	});

	it('no --state-dir and no migration of these servers under ./.keyferry', async () => {
		const cwd = mkdtempSync(join(root, 'cwd-'));
		await refused(['--resume', ...servers], /^keyferry: --resume: no migration of 127\.0\.0\.1:1 → 127\.0\.0\.1:1 in \.keyferry\/; give its --state-dir/, cwd);
		mkdirSync(join(cwd, '.keyferry', 'kf-x'), {recursive: true});
		writeFileSync(join(cwd, '.keyferry', 'kf-x', 'migration.json'), JSON.stringify({...migration, target: {...migration.target, port: 2}}));
		await refused(['--resume', ...servers], /no migration of/, cwd);
	});

	it('other servers than the ones the state dir migrates', async () => {
		const dir = stateDirWith({'migration.json': migration});
		await refused(['--state-dir', dir, '--source', 'redis://127.0.0.1:1', '--target', 'redis://127.0.0.1:1'], /holds migration m-cli of 127\.0\.0\.1:1 → 127\.0\.0\.1:1\/2, not 127\.0\.0\.1:1 → 127\.0\.0\.1:1; give the same/);
	});

	it('another --db-map than the recorded one', async () => {
		const dir = stateDirWith({'migration.json': {...migration, dbMap: [[3, 0]]}});
		await refused(['--state-dir', dir, '--db-map', '3:1', ...servers], /--db-map 3:1 differs from the migration's recorded --db-map 3:0/);
	});

	it('damaged progress.json', async () => {
		const dir = stateDirWith({'migration.json': migration, 'progress.json': '{"version":1,"stage":'});
		await refused(['--resume', '--state-dir', dir, ...servers], /progress\.json is not valid JSON/);
	});

	it('another keyferry still running on the state dir', async () => {
		const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {stdio: 'ignore'});
		try {
			const dir = stateDirWith({'migration.json': migration, lock: {pid: child.pid, host: hostname()}});
			await refused(['--resume', '--state-dir', dir, ...servers], new RegExp(`another keyferry \\(pid ${child.pid}\\) is running on`));
		} finally {
			child.kill('SIGKILL');
		}
	});

	it('--resume with --preflight-only', async () => {
		await refused(['--resume', '--preflight-only', ...servers], /--resume and --preflight-only cannot be used together/);
	});
});
