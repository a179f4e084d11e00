// Bundles cli.tsx and every dependency into one file that runs with plain `node` on Node >= 20.
import {build} from 'esbuild';
import {chmod} from 'node:fs/promises';

await build({
	entryPoints: ['cli.tsx'],
	outfile: 'dist/keyferry.js',
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'esm',
	jsx: 'automatic',
	legalComments: 'none',
	logLevel: 'warning',
	define: {
		'process.env.NODE_ENV': '"production"',
	},
	// Ink imports the React devtools (used only when DEV=true); they are not shipped, so the
	// import resolves to an inert stub instead of a package missing at run time.
	plugins: [
		{
			name: 'no-devtools',
			setup(builder) {
				builder.onResolve({filter: /^react-devtools-core$/}, () => ({path: 'react-devtools-core', namespace: 'stub'}));
				builder.onLoad({filter: /.*/, namespace: 'stub'}, () => ({contents: 'export default {connectToDevTools() {}};', loader: 'js'}));
			},
		},
	],
	banner: {
		js: [
			'#!/usr/bin/env node',
			"import {createRequire as __kfCreateRequire} from 'node:module';",
			'const require = __kfCreateRequire(import.meta.url);',
		].join('\n'),
	},
});
await chmod('dist/keyferry.js', 0o755);
