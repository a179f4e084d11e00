/** Line 1: which servers, which versions, how long, which migration. */
import {Box, Text} from 'ink';
import {attachedCount, holds, nameOf} from '../../control/pair';
import {useKeyferryShallow, useTheme, useUi} from '../console-context';
import {truncateEnd, truncateMiddle, truncateStart} from '../fit';
import {formatElapsed} from '../format';
import type {Glyphs} from '../glyphs';
import {useNow} from '../hooks/use-now';
import {printable} from '../printable';

export const brand = 'keyferry';

export interface HeaderText {
	source: string;
	sourceVersion: string;
	target: string;
	targetVersion: string;
	id: string;
	elapsed: string;
	/** Pair-run: who holds the controls and how many are attached, longest first; [] outside one. */
	pair: string[];
}

/** "controls: you · 2 attached" for the holder, "watching alice@box#a1f2 · 2 attached" for the others, then shorter. */
export function pairTexts(holder: string | null, holding: boolean, attached: number, glyphs: Glyphs): string[] {
	if (holder === null) return [];
	const who = holding ? 'controls: you' : `watching ${holder}`;
	const short = holding ? 'controls: you' : `watching ${truncateEnd(holder, 14, glyphs.ellipsis)}`;
	return [`${who} ${glyphs.separator} ${attached} attached`, `${short} ${glyphs.separator} ${attached} att`, holding ? 'you hold' : 'watching'];
}

/** redis://host:port reads as host:port; TLS stays visible as tls:host:port. */
function shortScheme(label: string): string {
	return label.replace(/^redis:\/\//, '').replace(/^rediss:\/\//, 'tls:');
}

/** Shorter schemes and versions, a shorter id then none, then labels cut in the middle. */
/**
 * Shrinks the header to `width`. In a pair-run the longest wording of the controls that keeps both
 * labels whole wins; when none does, the holder's name is kept (cut short) and the labels give way.
 */
export function fitHeader(text: HeaderText, width: number, glyphs: Glyphs): HeaderText {
	if (text.pair.length <= 1) return fitOnce(text, width, glyphs);
	// The last wording names nobody: it is left to fitOnce's final step, for the narrowest terminals.
	const tries = text.pair.slice(0, -1).map((_, index) => fitOnce({...text, pair: text.pair.slice(index)}, width, glyphs));
	const whole = tries.find((fitted) => fitted.source === shortScheme(text.source) && fitted.target === shortScheme(text.target));
	return whole ?? tries[Math.min(1, tries.length - 1)]!;
}

function fitOnce(text: HeaderText, width: number, glyphs: Glyphs): HeaderText {
	const fitted = {...text};
	const length = () =>
		brand.length +
		2 +
		fitted.source.length +
		(fitted.sourceVersion ? fitted.sourceVersion.length + 1 : 0) +
		glyphs.arrow.length +
		2 +
		fitted.target.length +
		(fitted.targetVersion ? fitted.targetVersion.length + 1 : 0) +
		2 +
		(fitted.id ? fitted.id.length + glyphs.separator.length + 2 : 0) +
		(fitted.pair[0] ? fitted.pair[0].length + glyphs.separator.length + 2 : 0) +
		fitted.elapsed.length;
	const steps = [
		() => {
			fitted.source = shortScheme(fitted.source);
			fitted.target = shortScheme(fitted.target);
		},
		() => {
			// "redis 7.2.4 → redis 7.4.1" says redis twice; another server name (valkey) stays.
			fitted.sourceVersion = fitted.sourceVersion.replace(/^redis /, '');
			fitted.targetVersion = fitted.targetVersion.replace(/^redis /, '');
		},
		// Migration ids end in their most distinctive part (kf-20261122-0912-a1b2).
		() => (fitted.id = truncateStart(fitted.id, 10, glyphs.ellipsis)),
		// Which servers matters more than which run: the id is also the state directory's name.
		() => (fitted.id = ''),
		shareRoom,
		() => {
			fitted.sourceVersion = '';
			fitted.targetVersion = '';
		},
		() => (fitted.pair = fitted.pair.slice(1)),
	];
	let labels = {source: '', target: ''};
	for (const step of steps) {
		if (length() <= width) break;
		if (step === shareRoom) labels = {source: fitted.source, target: fitted.target};
		step();
	}
	// Cut before the versions went: the room they left goes back to the labels.
	if (labels.source && length() < width) {
		fitted.source = labels.source;
		fitted.target = labels.target;
		shareRoom();
	}
	return fitted;

	/** Shares the room left between the two labels; a short one lends the rest to the other. */
	function shareRoom() {
		const room = width - (length() - fitted.source.length - fitted.target.length);
		let forSource = Math.floor(room / 2);
		let forTarget = room - forSource;
		if (fitted.source.length < forSource) {
			forTarget += forSource - fitted.source.length;
			forSource = fitted.source.length;
		} else if (fitted.target.length < forTarget) {
			forSource += forTarget - fitted.target.length;
			forTarget = fitted.target.length;
		}
		fitted.source = truncateMiddle(fitted.source, Math.max(10, forSource), glyphs.ellipsis);
		fitted.target = truncateMiddle(fitted.target, Math.max(10, forTarget), glyphs.ellipsis);
	}
}

export function Header({width}: {width: number}) {
	const theme = useTheme();
	const {glyphs} = theme;
	const state = useKeyferryShallow((s) => ({
		migrationId: s.migrationId,
		startedAt: s.startedAt,
		source: s.source.label,
		sourceVersion: s.source.version,
		target: s.target.label,
		targetVersion: s.target.version,
		over: s.exitCode !== null,
		pair: s.pair,
	}));
	const self = useUi((u) => u.self);
	const attached = useUi((u) => u.attached);
	const clients = attachedCount(state.pair);
	// Outside a pair-run (nobody attached to this console's run) the header stays as it was.
	const showPair = attached || clients > 0;
	const now = useNow(1000, !state.over);
	const text = fitHeader(
		{
			source: printable(state.source, theme.ascii),
			sourceVersion: state.sourceVersion ?? '',
			target: printable(state.target, theme.ascii),
			targetVersion: state.targetVersion ?? '',
			id: printable(state.migrationId, theme.ascii),
			elapsed: formatElapsed(now - state.startedAt),
			pair: showPair ? pairTexts(state.pair.holder === null ? null : printable(nameOf(state.pair, state.pair.holder), theme.ascii), holds(state.pair, self), clients, glyphs) : [],
		},
		width,
		glyphs,
	);
	return (
		<Box width={width} justifyContent="space-between">
			<Text wrap="truncate-end">
				<Text bold color={theme.tone('brand')}>
					{brand}
				</Text>
				{'  '}
				{text.source}
				{text.sourceVersion ? <Text dimColor> {text.sourceVersion}</Text> : null}
				<Text color={theme.tone('accent')}> {glyphs.arrow} </Text>
				{text.target}
				{text.targetVersion ? <Text dimColor> {text.targetVersion}</Text> : null}
			</Text>
			<Box flexShrink={0} marginLeft={2}>
				<Text>
					{text.pair[0] ? (
						<Text color={theme.tone(holds(state.pair, self) ? 'ok' : 'warn')}>
							{text.pair[0]} <Text dimColor>{glyphs.separator} </Text>
						</Text>
					) : null}
					{text.id ? (
						<Text dimColor>
							{text.id} {glyphs.separator}{' '}
						</Text>
					) : null}
					<Text bold>{text.elapsed}</Text>
				</Text>
			</Box>
		</Box>
	);
}
