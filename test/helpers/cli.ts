/** Runs the built CLI (dist/keyferry.js) as an operator would, capturing everything it prints. */
import {spawn} from 'node:child_process';
import {resolve} from 'node:path';

export const bundlePath = resolve('dist/keyferry.js');

export interface CliResult {
	code: number | null;
	stdout: string;
	stderr: string;
	/** stdout parsed as JSON lines (headless mode). */
	events: Array<Record<string, unknown> & {type: string}>;
}

export interface RunCliOptions {
	env?: NodeJS.ProcessEnv;
	cwd?: string;
	timeoutMs?: number;
	/** Called once with the child so a test can signal it. */
	onSpawn?: (child: import('node:child_process').ChildProcess) => void;
	/** Called with each stdout JSON event as it arrives. */
	onEvent?: (event: Record<string, unknown> & {type: string}, child: import('node:child_process').ChildProcess) => void;
	script?: string;
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
	return new Promise((resolvePromise, reject) => {
		const env = {...process.env, ...options.env};
		delete env['FORCE_COLOR'];
		const child = spawn(process.execPath, [options.script ?? bundlePath, ...args], {cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe']});
		options.onSpawn?.(child);
		let stdout = '';
		let stderr = '';
		let pending = '';
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
			if (!options.onEvent) return;
			pending += chunk.toString();
			const lines = pending.split('\n');
			pending = lines.pop() ?? '';
			for (const line of lines) {
				try {
					options.onEvent(JSON.parse(line) as Record<string, unknown> & {type: string}, child);
				} catch {
					// Not JSON: the test's assertions on stdout will say so.
				}
			}
		});
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`keyferry ${args.join(' ')} did not exit within ${options.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
		}, options.timeoutMs ?? 30_000);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			const events = stdout
				.split('\n')
				.filter((line) => line.startsWith('{'))
				.map((line) => JSON.parse(line) as Record<string, unknown> & {type: string});
			resolvePromise({code, stdout, stderr, events});
		});
	});
}
