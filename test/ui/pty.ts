/**
 * A program in a pseudo-terminal, driven like an operator would: util-linux `script` gives it a
 * terminal of the asked size, keys go in through `script`'s stdin, everything shown comes back.
 */
import {spawn, type ChildProcess} from 'node:child_process';

export interface Terminal {
	child: ChildProcess;
	/** Everything written to the terminal, escape sequences included. */
	raw(): string;
	/** The same without escape sequences: every frame is rewritten whole, so its lines stay intact. */
	text(): string;
	write(keys: string): void;
	/** The first match after `from` (an offset into text()), or null after `timeoutMs` or once the program exited. */
	waitFor(pattern: RegExp, from: number, timeoutMs: number): Promise<RegExpExecArray | null>;
	/** The exit code, or 'timeout'. */
	exit(timeoutMs: number): Promise<number | null | 'timeout'>;
}

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export const plain = (raw: string) => raw.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '').replace(/\u001B[()][A-Z0-9]/g, '');

export function openTerminal(argv: string[], options: {columns: number; rows: number; env?: NodeJS.ProcessEnv; cwd?: string}): Terminal {
	const command = `stty cols ${options.columns} rows ${options.rows}; exec ${argv.map(quote).join(' ')}`;
	const env: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color', LANG: 'C.UTF-8'};
	// An operator's shell is not CI (Ink in CI mode draws only the last frame), and LANG decides the glyphs.
	for (const key of ['CI', 'CONTINUOUS_INTEGRATION', 'FORCE_COLOR', 'NO_COLOR', 'LC_ALL', 'LC_CTYPE']) delete env[key];
	for (const [key, value] of Object.entries(options.env ?? {})) {
		if (value === undefined) delete env[key];
		else env[key] = value;
	}
	const child = spawn('script', ['-qfec', command, '/dev/null'], {env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe']});
	let raw = '';
	child.stdout!.on('data', (chunk: Buffer) => (raw += chunk.toString()));
	child.stderr!.on('data', (chunk: Buffer) => (raw += chunk.toString()));
	const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
	return {
		child,
		raw: () => raw,
		text: () => plain(raw),
		write: (keys) => child.stdin!.write(keys),
		async waitFor(pattern, from, timeoutMs) {
			const deadline = Date.now() + timeoutMs;
			while (Date.now() < deadline) {
				const match = pattern.exec(plain(raw).slice(from));
				if (match) return match;
				if (child.exitCode !== null) return null;
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
			return null;
		},
		exit: (timeoutMs) => Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs))]),
	};
}
