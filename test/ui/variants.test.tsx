import './setup';
import {describe, expect, it} from 'vitest';
import {toAscii} from '../../source/ui/ascii-stream';
import {populatedStore, withFeed} from './fixtures/populated-store';

// Colors are what this file checks: chalk decides its color level when Ink is first imported.
process.env['FORCE_COLOR'] = '1';
const {cleanup, keys, renderConsole, useFrozenClock} = await import('./render-console');

useFrozenClock();

const colorCode = /\u001B\[(?:3[0-8]|9[0-7]|4[0-8]|10[0-7])[;m]/;
const strip = (text: string) => text.replace(/\u001B\[[0-9;]*m/g, '');

describe('ASCII', () => {
	it('draws only ASCII (Ink truncation marks become ~ on the way out)', async () => {
		const store = withFeed(populatedStore('copy', {stageStatus: 'ready'}), [{key: 'clé:日本', db: 0, kind: 'value', diff: 'naïve != naive'}]);
		const view = await renderConsole(store, {ascii: true});
		const frame = strip(view.frame());
		expect([...frame].filter((char) => char.codePointAt(0)! > 0x7f && char !== '…')).toEqual([]);
		expect(toAscii(frame)).toMatchInlineSnapshot(`
			"keyferry  10.0.1.15:6379 7.2.4 -> 10.0.2.40:6379 7.4.1   mig-3f9a2c1e | 00:12:34
			[x] preflight [x] capture [!] copy [ ] sync [ ] verify [ ] cutover [ ] done
			copy #################...........  62.3%  1.23M/1.98M keys | 12.3k/s | ETA 1m01s
			+- throughput per second | last 4m ----------++- queue replay lag -------------+
			| captured ::=%##%+-::-+%##%=:::-*   4.20k/s || lag       1,234 ev | 0.4 s     |
			| applied  ::=%##%+-::-+%##%=:::-*   4.10k/s || journal   12.4 MiB             |
			| copied   =:::-=*%###%+=::::=+%##   12.3k/s || trend     #%::*#+:-% ^ growing |
			+--------------------------------------------++--------------------------------+
			+- discrepancies 3 found | 1.2% of 250 samples | d list -----------------------+
			| value   db0  cl\\xe9:\\u{65e5}\\u{672c}      na\\xefve != naive                  |
			+------------------------------------------------------------------------------+
			source    0.4 ms | mem 2.0 GiB / 4.0 GiB | evicted 0 | monitor buf 256 KiB
			target    0.6 ms | mem 819 MiB (no limit) | evicted 0
			-- log -------------------------------------------------------------------------
			14:29:00 [>] preflight started
			14:29:05 [x] preflight passed: 1,980,000 keys, dump copy
			14:29:10 ! monitor-cost: MONITOR can halve source throughput at peak
			14:29:15 [>] capture started
			14:29:20 [>] copy started: scanning 1 db
			14:29:25 ! big-key: key "feed:global" is 512 MiB; copied on its own

			[!] copy is ready: scanning db 0 | press Enter to advance to sync
			Enter advance  p pause copy  +/- copy rate  d discrepancies  ? keys  q quit"
		`);
	});

	it('shows the typed confirmation with an ASCII cursor', async () => {
		const store = populatedStore('verify', {stageStatus: 'ready'});
		const view = await renderConsole(store, {ascii: true});
		await view.press(keys.enter);
		await view.type('cut');
		expect(strip(view.frame())).toContain('| Type cutover to confirm: cut_');
	});
});

describe('colors', () => {
	it('colors the console by default', async () => {
		const view = await renderConsole(withFeed(populatedStore('copy')), {color: true});
		expect(view.frame()).toMatch(colorCode);
	});

	it('adds no color with --no-color or NO_COLOR, but keeps bold and dim', async () => {
		const store = withFeed(populatedStore('copy', {stageStatus: 'ready'}));
		const view = await renderConsole(store, {color: false});
		expect(view.frame()).not.toMatch(colorCode);
		expect(view.frame()).toContain('\u001B[1m');
		await view.press(keys.enter);
		expect(view.frame()).not.toMatch(colorCode);
		await view.press(keys.escape, 'd');
		expect(view.frame()).not.toMatch(colorCode);
	});

	it('is the same text with and without colors', async () => {
		const colored = await renderConsole(withFeed(populatedStore('copy')), {color: true});
		const coloredText = strip(colored.frame());
		cleanup();
		const plain = await renderConsole(withFeed(populatedStore('copy')), {color: false});
		expect(strip(plain.frame())).toBe(coloredText);
	});
});
