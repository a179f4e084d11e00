/** "Advance to sync?": y advances, Esc (or n) cancels. */
import {Text} from 'ink';
import {Panel} from '../components/panel';
import {useTheme, useUi} from '../console-context';
import {KeyHints, useShortcutState} from '../panes/footer';
import {enteringStage} from '../stage-text';
import type {Dialog} from '../ui-store';

export function AdvanceDialog({dialog, width}: {dialog: Extract<Dialog, {kind: 'advance'}>; width: number}) {
	const theme = useTheme();
	const state = useShortcutState();
	const ui = useUi((u) => u);
	return (
		<Panel title={`advance to ${dialog.to}`} titleTone="accent" width={width} rows={3}>
			<Text wrap="truncate-end" bold>
				{dialog.from} is ready. Advance to {dialog.to}? <Text color={theme.tone('accent')}>(y/Esc)</Text>
			</Text>
			<Text wrap="truncate-end" dimColor>
				{enteringStage[dialog.to]}
			</Text>
			<KeyHints mode="confirm" state={state} ui={ui} width={width - 4} />
		</Panel>
	);
}
