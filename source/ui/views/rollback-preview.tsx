/**
 * `r` after cutover: what a rollback would write back to the source. The engine does not publish the
 * post-cutover diff to the store yet, so this view says so plainly instead of showing an empty list.
 */
import {Text} from 'ink';
import {Panel} from '../components/panel';
import {useKeyferry, useTheme} from '../console-context';

export function RollbackPreview({width, lines}: {width: number; lines: number}) {
	const theme = useTheme();
	const afterCutover = useKeyferry((state) => state.stage === 'cutover' || state.stage === 'done' || state.completedStages.includes('cutover'));
	return (
		<Panel title="rollback preview" width={width} rows={Math.max(1, lines - 2)}>
			{afterCutover ? (
				<>
					<Text wrap="wrap">rollback preview: not available yet. The engine does not publish the diff of the target since cutover to the console.</Text>
					<Text wrap="wrap" dimColor>
						Once it does, every key changed on the target since cutover is listed here, and applying it asks for rollback to be typed.
					</Text>
				</>
			) : (
				<Text color={theme.tone('muted')}>rollback preview: available after cutover</Text>
			)}
		</Panel>
	);
}
