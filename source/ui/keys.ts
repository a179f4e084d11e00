/**
 * Ink's (input, key) pairs turned into the key presses the keymap matches. Ink delivers a burst of
 * plain characters (fast typing over SSH, a paste, "\ry" in one read) as one string, so plain text
 * is split into one press per character here and nothing is dropped.
 */
import type {Key} from 'ink';

export type NamedKey = 'return' | 'escape' | 'backspace' | 'up' | 'down' | 'pageup' | 'pagedown' | 'home' | 'end' | 'tab' | 'ctrl-c';

export type KeyPress = {name: NamedKey} | {name: 'char'; char: string};

export function toKeyPresses(input: string, key: Key): KeyPress[] {
	if (key.ctrl && input === 'c') return [{name: 'ctrl-c'}];
	if (key.return) return [{name: 'return'}];
	if (key.escape) return [{name: 'escape'}];
	if (key.backspace || key.delete) return [{name: 'backspace'}];
	if (key.upArrow) return [{name: 'up'}];
	if (key.downArrow) return [{name: 'down'}];
	if (key.pageUp) return [{name: 'pageup'}];
	if (key.pageDown) return [{name: 'pagedown'}];
	if (key.home) return [{name: 'home'}];
	if (key.end) return [{name: 'end'}];
	if (key.tab) return [{name: 'tab'}];
	if (key.ctrl || key.meta) return [];
	return [...input].flatMap(charPress);
}

function charPress(char: string): KeyPress[] {
	if (char === '\r' || char === '\n') return [{name: 'return'}];
	if (char === '\x7f' || char === '\b') return [{name: 'backspace'}];
	if (char === '\x03') return [{name: 'ctrl-c'}];
	if (char === '\x1b') return [{name: 'escape'}];
	if (char === '\t') return [{name: 'tab'}];
	if ((char.codePointAt(0) ?? 0) < 0x20) return [];
	return [{name: 'char', char}];
}
