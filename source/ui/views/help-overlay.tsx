/** `?`: the keys of the view underneath, with why a key does nothing right now. */
import {Box, Text} from 'ink';
import {Panel} from '../components/panel';
import {useTheme, useUi} from '../console-context';
import {attachedCount} from '../../control/pair';
import {shortcuts} from '../keymap';
import {useShortcutState} from '../panes/footer';

export function HelpOverlay({width, lines}: {width: number; lines: number}) {
	const theme = useTheme();
	const state = useShortcutState();
	const ui = useUi((u) => u);
	const pairRun = ui.attached || attachedCount(state.pair) > 0;
	const entries = shortcuts.filter((shortcut) => shortcut.modes.includes(ui.view) && (pairRun || !shortcut.pairOnly));
	const keyWidth = Math.max(...entries.map((shortcut) => shortcut.keys(theme.glyphs).length)) + 2;
	const view = ui.view === 'main' ? 'dashboard' : ui.view === 'discrepancies' ? 'discrepancy list' : 'rollback preview';
	return (
		<Panel title="keys" extra={`${view} ${theme.glyphs.separator} Esc or ? closes`} width={width} rows={Math.max(1, lines - 2)}>
			{entries.map((shortcut) => {
				const available = shortcut.available(state, ui);
				return (
					<Box key={shortcut.id}>
						<Box width={keyWidth} flexShrink={0}>
							<Text bold color={available === true ? theme.tone('accent') : undefined} dimColor={available !== true}>
								{shortcut.keys(theme.glyphs)}
							</Text>
						</Box>
						<Text wrap="truncate-end">
							<Text dimColor={available !== true}>{ui.attached ? (shortcut.helpAttached ?? shortcut.help) : shortcut.help}</Text>
							{available === true ? null : <Text dimColor> {theme.glyphs.separator} not now: {available}</Text>}
						</Text>
					</Box>
				);
			})}
		</Panel>
	);
}
