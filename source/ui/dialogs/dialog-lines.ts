/** Dialog heights, for the layout: they take the footer's place. */
import type {Dialog} from '../ui-store';

export function dialogLines(dialog: Dialog): number {
	switch (dialog.kind) {
		case 'advance':
			return 5;
		case 'typed':
			return 6;
		case 'quit':
		case 'detach':
		case 'handover':
		case 'give':
			return 4;
	}
}
