/** Line 1: which servers, which versions, how long, which migration. */
import {Box, Text} from 'ink';
import {useKeyferryShallow, useTheme} from '../console-context';
import {truncateMiddle, truncateStart} from '../fit';
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
}

/** redis://host:port reads as host:port; TLS stays visible as tls:host:port. */
function shortScheme(label: string): string {
	return label.replace(/^redis:\/\//, '').replace(/^rediss:\/\//, 'tls:');
}

/** Shrinks the header to `width`: shorter schemes and versions, a shorter id then none, then labels cut in the middle. */
export function fitHeader(text: HeaderText, width: number, glyphs: Glyphs): HeaderText {
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
		() => {
			// Share the room left between the two labels; a short one lends the rest to the other.
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
		},
		() => {
			fitted.sourceVersion = '';
			fitted.targetVersion = '';
		},
	];
	for (const step of steps) {
		if (length() <= width) break;
		step();
	}
	return fitted;
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
	}));
	const now = useNow(1000, !state.over);
	const text = fitHeader(
		{
			source: printable(state.source, theme.ascii),
			sourceVersion: state.sourceVersion ?? '',
			target: printable(state.target, theme.ascii),
			targetVersion: state.targetVersion ?? '',
			id: printable(state.migrationId, theme.ascii),
			elapsed: formatElapsed(now - state.startedAt),
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
