/** One terminal line that never wraps: anything too long is cut with an ellipsis. */
import {Text, type TextProps} from 'ink';

export function Line(props: Omit<TextProps, 'wrap'>) {
	return <Text wrap="truncate-end" {...props} />;
}
