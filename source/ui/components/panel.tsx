/**
 * A bordered pane with its title in the top border. The height is fixed (`rows` content lines plus
 * the two borders) and overflow is clipped, so a pane can never push the frame past its budget.
 */
import {Box, Text} from 'ink';
import type {ReactNode} from 'react';
import {useTheme} from '../console-context';
import type {Tone} from '../theme';

export interface PanelProps {
	title: string;
	/** Dim text after the title, e.g. a count or the time window. */
	extra?: string;
	titleTone?: Tone;
	width: number;
	rows: number;
	children: ReactNode;
}

export function Panel({title, extra, titleTone, width, rows, children}: PanelProps) {
	const theme = useTheme();
	const border = theme.glyphs.border;
	const room = Math.max(0, width - 3);
	const label = ` ${title} `.slice(0, room);
	const more = (extra ? `${extra} ` : '').slice(0, Math.max(0, room - label.length));
	const fill = Math.max(0, room - label.length - more.length);
	return (
		<Box flexDirection="column" width={width} flexShrink={0}>
			<Text wrap="truncate-end">
				<Text color={theme.tone('border')}>
					{border.topLeft}
					{border.top}
				</Text>
				<Text bold color={titleTone ? theme.tone(titleTone) : undefined}>
					{label}
				</Text>
				<Text dimColor>{more}</Text>
				<Text color={theme.tone('border')}>
					{border.top.repeat(fill)}
					{border.topRight}
				</Text>
			</Text>
			<Box
				borderStyle={border}
				borderTop={false}
				borderColor={theme.tone('border')}
				height={rows + 1}
				width={width}
				paddingX={1}
				flexDirection="column"
				overflow="hidden"
			>
				{children}
			</Box>
		</Box>
	);
}
