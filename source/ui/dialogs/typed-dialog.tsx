/**
 * The dangerous advances (cutover, rollback) ask for the stage name: a reflexive Enter or y cannot
 * move production traffic.
 */
import {Box, Text} from 'ink';
import {Panel} from '../components/panel';
import {useTheme, useUi} from '../console-context';
import {KeyHints, useShortcutState} from '../panes/footer';
import {printable} from '../printable';
import {enteringStage} from '../stage-text';
import type {Dialog} from '../ui-store';

export function TypedDialog({dialog, width}: {dialog: Extract<Dialog, {kind: 'typed'}>; width: number}) {
	const theme = useTheme();
	const state = useShortcutState();
	const ui = useUi((u) => u);
	const matches = dialog.text === dialog.to;
	return (
		<Panel title={dialog.to} extra="needs the stage name typed" titleTone="warn" width={width} rows={4}>
			<Box height={2} overflow="hidden">
				<Text wrap="wrap" color={theme.tone('warn')}>
					{enteringStage[dialog.to]}
				</Text>
			</Box>
			<Text wrap="truncate-end">
				Type <Text bold>{dialog.to}</Text> to confirm:{' '}
				<Text bold color={theme.tone(matches ? 'ok' : 'accent')}>
					{printable(dialog.text, theme.ascii)}
				</Text>
				<Text color={theme.tone('accent')}>{theme.glyphs.cursor}</Text>
			</Text>
			<KeyHints mode="typed" state={state} ui={ui} width={width - 4} />
		</Panel>
	);
}
