/**
 * The engine's store, the console's UI store and the theme, handed down once. Components read
 * narrow slices through these hooks, so a pane re-renders only when its own numbers change.
 */
import {createContext, useContext} from 'react';
import {useStore} from 'zustand';
import {useShallow} from 'zustand/react/shallow';
import type {KeyferryState, KeyferryStore} from '../engine/store';
import type {Theme} from './theme';
import type {UiState, UiStore} from './ui-store';

export interface ConsoleContextValue {
	store: KeyferryStore;
	ui: UiStore;
	theme: Theme;
}

const ConsoleContext = createContext<ConsoleContextValue | null>(null);

export const ConsoleProvider = ConsoleContext.Provider;

export function useConsole(): ConsoleContextValue {
	const value = useContext(ConsoleContext);
	if (!value) throw new Error('console components must be rendered inside <App>');
	return value;
}

export function useKeyferry<T>(selector: (state: KeyferryState) => T): T {
	return useStore(useConsole().store, selector);
}

/** For selectors that build an object or array: re-renders only when a member changes. */
export function useKeyferryShallow<T>(selector: (state: KeyferryState) => T): T {
	return useStore(useConsole().store, useShallow(selector));
}

export function useUi<T>(selector: (state: UiState) => T): T {
	return useStore(useConsole().ui, selector);
}

export function useTheme(): Theme {
	return useConsole().theme;
}
