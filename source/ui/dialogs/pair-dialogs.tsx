/**
 * The pair-run dialogs: an attached console's q (detach, the default, or stop the migration), the
 * holder's answer to a request for the controls, and the holder's hand-over.
 */
import {Text} from 'ink';
import {nameOf} from '../../control/pair';
import {Panel} from '../components/panel';
import {useTheme, useUi} from '../console-context';
import {KeyHints, useShortcutState} from '../panes/footer';
import {printable} from '../printable';
import type {Dialog} from '../ui-store';

type PairDialog = Extract<Dialog, {kind: 'detach' | 'handover' | 'give'}>;

export function PairDialogPanel({dialog, width}: {dialog: PairDialog; width: number}) {
	const theme = useTheme();
	const state = useShortcutState();
	const ui = useUi((u) => u);
	const name = (id: string) => printable(nameOf(state.pair, id), theme.ascii);
	const text =
		dialog.kind === 'detach'
			? {title: 'detach', question: 'Detach and leave the migration running? (Enter detaches, s stops it)'}
			: dialog.kind === 'handover'
				? {title: 'controls', question: `${name(dialog.from)} asks for the controls. Hand them over? (Enter/Esc)`}
				: {title: 'hand over', question: `Hand the controls to ${name(dialog.to)}? (Enter/Esc, Tab: another)`};
	return (
		<Panel title={text.title} titleTone="warn" width={width} rows={2}>
			<Text wrap="truncate-end" bold>
				{text.question}
			</Text>
			{ui.notice ? (
				<Text wrap="truncate-end" color={theme.tone(ui.notice.tone === 'info' ? 'accent' : ui.notice.tone)}>
					{printable(ui.notice.text, theme.ascii)}
				</Text>
			) : (
				<KeyHints mode={dialog.kind} state={state} ui={ui} width={width - 4} />
			)}
		</Panel>
	);
}
