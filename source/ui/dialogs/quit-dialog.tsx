/** "Quit? Drains to a barrier first": y stops like SIGTERM does, Esc (or n) keeps running. */
import {Text} from 'ink';
import {Panel} from '../components/panel';
import {useUi} from '../console-context';
import {KeyHints, useShortcutState} from '../panes/footer';

export function QuitDialog({width}: {width: number}) {
	const state = useShortcutState();
	const ui = useUi((u) => u);
	return (
		<Panel title="quit" titleTone="warn" width={width} rows={2}>
			<Text wrap="truncate-end" bold>
				Quit? Drains to a barrier first (y/Esc)
			</Text>
			<KeyHints mode="quit" state={state} ui={ui} width={width - 4} />
		</Panel>
	);
}
