/**
 * `npm run media`: records the real `keyferry demo` in a 100x30 tmux pane, advancing the stages
 * with the keys an operator presses, and renders what the terminal showed into media/: one still
 * per stage (preflight, capture, copy, sync, verify, cutover, the rollback preview, the quit
 * dialog, after quitting) and media/demo.svg,
 * the whole run as an animation (a frame every half second, idle stretches shortened).
 *
 * Needs tmux and redis-server. Runs on a private tmux socket; everything it started is stopped at
 * the end, also when it fails or is interrupted.
 */
import {execFile} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {promisify} from 'node:util';
import {parseScreen, screenText, type Screen} from './ansi-screen';
import {renderAnimation, renderStill, type Frame} from './screen-svg';

const run = promisify(execFile);

const columns = 100;
const rows = 30;
const frameIntervalMs = 500;
/** Idle stretches (seeding, waiting) play at most this long per frame. */
const maxFrameMs = 1500;
/** The last frame stays up this long before the animation loops. */
const finalHoldMs = 5000;
/** Enough keys that the copy takes a few seconds to watch. */
const demoCommand = 'node dist/keyferry.js demo --keys 100000 --rate 500';
const mediaBudgetBytes = 2 * 1024 * 1024;

const root = resolve(import.meta.dirname, '..');
const mediaDir = join(root, 'media');
/** A private tmux server whose socket lives (and goes) with the scratch dir. */
const scratch = mkdtempSync(join(tmpdir(), 'keyferry-media-'));
const configFile = join(scratch, 'tmux.conf');
const socket = join(scratch, 'tmux.sock');

function tmux(...args: string[]): Promise<string> {
	return run('tmux', ['-S', socket, '-f', configFile, ...args], {maxBuffer: 16 * 1024 * 1024}).then(({stdout}) => stdout);
}

async function capture(): Promise<{raw: string; screen: Screen}> {
	const raw = await tmux('capture-pane', '-t', 'media', '-e', '-p');
	return {raw, screen: parseScreen(raw, columns, rows)};
}

async function press(key: string, pauseMs = 1200): Promise<void> {
	await tmux('send-keys', '-t', 'media', key);
	await sleep(pauseMs);
}

/** Polls the pane until `test` accepts its text; bounded, and says what the screen showed if not. */
async function waitFor(what: string, test: (text: string) => boolean, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let text = '';
	while (Date.now() < deadline) {
		text = screenText((await capture()).screen);
		if (test(text)) return;
		await sleep(200);
	}
	throw new Error(`timed out waiting for ${what}; the screen shows:\n${text}`);
}

const shows = (pattern: RegExp) => (text: string) => pattern.test(text);

async function still(name: string, title: string): Promise<void> {
	const {screen} = await capture();
	writeFileSync(join(mediaDir, `${name}.svg`), renderStill(screen, {title}));
	process.stdout.write(`media/${name}.svg\n`);
}

/** Captures a frame every half second until stopped. */
function startRecording(): {stop(): Promise<Array<{at: number; raw: string}>>} {
	const frames: Array<{at: number; raw: string}> = [];
	let recording = true;
	const loop = (async () => {
		while (recording) {
			const started = Date.now();
			frames.push({at: started, raw: (await capture()).raw});
			await sleep(Math.max(0, frameIntervalMs - (Date.now() - started)));
		}
	})();
	return {
		async stop() {
			recording = false;
			await loop;
			return frames;
		},
	};
}

/** Blank frames before the first output dropped, identical neighbours merged, no frame longer than maxFrameMs but the last. */
function toFrames(all: ReadonlyArray<{at: number; raw: string}>): Frame[] {
	const first = all.findIndex((frame) => frame.raw.trim() !== '');
	const captured = all.slice(Math.max(0, first));
	const merged: Array<{raw: string; durationMs: number}> = [];
	captured.forEach((frame, index) => {
		const next = captured[index + 1];
		const durationMs = next ? next.at - frame.at : finalHoldMs;
		const previous = merged.at(-1);
		if (previous && previous.raw === frame.raw && next) previous.durationMs += durationMs;
		else merged.push({raw: frame.raw, durationMs});
	});
	return merged.map((frame, index) => ({
		screen: parseScreen(frame.raw, columns, rows),
		durationMs: index === merged.length - 1 ? finalHoldMs : Math.min(frame.durationMs, maxFrameMs),
	}));
}

async function record(): Promise<void> {
	mkdirSync(mediaDir, {recursive: true});
	writeFileSync(configFile, 'set -g status off\nset -g history-limit 100\n');
	const environment = '-u CI -u CONTINUOUS_INTEGRATION -u FORCE_COLOR -u NO_COLOR -u LC_ALL -u LC_CTYPE LANG=C.UTF-8 TERM=xterm-256color';
	// `sleep` keeps the pane, and with it the demo's last words, after keyferry exits.
	await tmux('new-session', '-d', '-s', 'media', '-x', String(columns), '-y', String(rows), '-c', root, `env ${environment} ${demoCommand}; sleep 600`);
	const recording = startRecording();

	await waitFor('preflight to be ready', shows(/preflight is ready/), 120_000);
	await sleep(1500);
	await still('preflight', 'keyferry demo · preflight');

	await press('Enter');
	await press('y', 200);
	await waitFor('capture to be ready', shows(/capture is ready/));
	await sleep(2000);
	await still('capture', 'keyferry demo · capture');

	await press('Enter');
	await press('y', 200);
	await waitFor('the copy to be under way', (text) => {
		const percent = /(\d+(?:\.\d)?)%\s+[\d,]+\/[\d,]+ keys/.exec(text);
		return percent !== null && Number(percent[1]) >= 25 && Number(percent[1]) <= 75;
	});
	await still('copy', 'keyferry demo · copy');
	await waitFor('the copy to finish', shows(/copy is ready/));
	await sleep(1500);

	await press('Enter');
	await press('y', 200);
	await waitFor('sync to be ready', shows(/sync is ready/));
	await sleep(6000);
	await still('sync', 'keyferry demo · sync');

	await press('Enter');
	await press('y', 200);
	await waitFor('verify to be ready', shows(/verify is ready/));
	await sleep(1500);
	await still('verify', 'keyferry demo · verify');

	// Cutover wants its name typed; the demo then moves its application to the target.
	await press('Enter', 800);
	await tmux('send-keys', '-t', 'media', '-l', 'cutover');
	await sleep(600);
	await still('cutover-confirm', 'keyferry demo · cutover, typed confirmation');
	await press('Enter');
	await waitFor('cutover to be ready', shows(/cutover is ready/), 30_000);
	await sleep(1000);
	await still('cutover', 'keyferry demo · cutover checklist');
	await press('Enter');
	await press('y', 200);
	await waitFor('the cutover point to be recorded', shows(/done: reverse capture running/), 30_000);
	await sleep(3000);
	await press('r', 2500);
	await still('rollback-preview', 'keyferry demo · rollback preview');
	await press('Escape', 800);

	await press('q', 1500);
	await still('quit-dialog', 'keyferry demo · quit');
	await press('y', 200);
	await waitFor('the demo to stop its servers', shows(/both redis-servers stopped/));
	await sleep(1000);
	await still('quit', 'keyferry demo · after quitting');

	const frames = toFrames(await recording.stop());
	writeFileSync(join(mediaDir, 'demo.svg'), renderAnimation(frames, {title: 'keyferry demo'}));
	process.stdout.write(`media/demo.svg (${frames.length} frames)\n`);
}

async function main(): Promise<void> {
	const stopAll = async () => {
		// Closing the pane hangs up on the demo, which stops its redis-servers.
		await tmux('kill-server').catch(() => {});
		rmSync(scratch, {recursive: true, force: true});
	};
	process.once('SIGINT', () => {
		void stopAll().then(() => process.exit(130));
	});
	try {
		await run('tmux', ['-V']).catch(() => {
			throw new Error('tmux not found: install it (apt-get install tmux / brew install tmux)');
		});
		await record();
	} finally {
		await stopAll();
	}
	const files = ['preflight', 'capture', 'copy', 'sync', 'quit-dialog', 'quit', 'demo'].map((name) => join(mediaDir, `${name}.svg`));
	const total = files.reduce((sum, file) => sum + statSync(file).size, 0);
	process.stdout.write(`media/: ${(total / 1024).toFixed(0)} KiB\n`);
	if (total > mediaBudgetBytes) throw new Error(`media/ is ${(total / 1024 / 1024).toFixed(1)} MiB, over the 2 MiB budget`);
}

main().catch((error: unknown) => {
	process.stderr.write(`media: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exitCode = 1;
});
