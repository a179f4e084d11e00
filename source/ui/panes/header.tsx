/** Line 1: which servers, which versions, how long, which migration. */
import {Box, Text} from 'ink';
import {useKeyferryShallow, useTheme} from '../console-context';
import {truncateMiddle} from '../fit';
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

/** Shrinks the header to `width`: drop the redis:// scheme, shorten the id, then cut labels in the middle. */
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
			fitted.source = fitted.source.replace(/^redis:\/\//, '');
			fitted.target = fitted.target.replace(/^redis:\/\//, '');
		},
		() => (fitted.id = fitted.id.slice(0, 8)),
		() => {
			const over = length() - width;
			const shrink = (label: string) => truncateMiddle(label, Math.max(12, label.length - Math.ceil(over / 2)), glyphs.ellipsis);
			fitted.source = shrink(fitted.source);
			fitted.target = shrink(fitted.target);
		},
		() => (fitted.id = ''),
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
