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
	// Ink loads the React devtools only when DEV=true; they are not shipped.
	external: ['react-devtools-core'],
	banner: {
		js: [
			'#!/usr/bin/env node',
			"import {createRequire as __kfCreateRequire} from 'node:module';",
			'const require = __kfCreateRequire(import.meta.url);',
		].join('\n'),
	},
});
await chmod('dist/keyferry.js', 0o755);
