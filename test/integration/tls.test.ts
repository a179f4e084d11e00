/** rediss:// end to end: preflight with --tls-ca and --tls-insecure, a refused certificate, and a live migration from a TLS source. */
import {rmSync} from 'node:fs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli';
import {migrationFixture} from '../helpers/migration';
import {startStandalone, type TestServer} from '../helpers/redis';
import {makeCertificates, type TestCertificates} from '../helpers/tls';

const {stateDir} = migrationFixture();
let certificates: TestCertificates;
let source: TestServer;
let target: TestServer;

beforeAll(async () => {
	certificates = makeCertificates();
	[source, target] = await Promise.all([startStandalone({tls: certificates, password: 'tls-secret'}), startStandalone()]);
	const writer = source.client();
	for (let i = 0; i < 200; i++) await writer.set(`key:${i}`, `value-${i}`, 'EX', 600);
	await writer.hset('profile', {name: 'alice', plan: 'pro'});
});

afterAll(async () => {
	await Promise.all([source?.stop(), target?.stop()]);
	rmSync(certificates.dir, {recursive: true, force: true});
});

const env = {KEYFERRY_SOURCE_PASSWORD: 'tls-secret'};

describe('TLS (rediss://)', () => {
	it('passes preflight with the CA, or with --tls-insecure', async () => {
		const withCa = await runCli(['migrate', '--preflight-only', '--headless', '--tls-ca', certificates.ca, '--source', source.url, '--target', target.url], {env});
		expect(withCa.code, withCa.stderr).toBe(0);
		expect(withCa.events.find((event) => event.type === 'preflight')).toMatchObject({report: {source: {label: `rediss://127.0.0.1:${source.port}`, markers: 'address'}}});
		const insecure = await runCli(['migrate', '--preflight-only', '--headless', '--tls-insecure', '--source', source.url, '--target', target.url], {env});
		expect(insecure.code, insecure.stderr).toBe(0);
	});

	it('refuses a certificate it cannot verify, in one line', async () => {
		const result = await runCli(['migrate', '--preflight-only', '--headless', '--source', source.url, '--target', target.url], {env});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain(`cannot connect to the source 127.0.0.1:${source.port}`);
		expect(result.stderr).not.toMatch(/\n\s+at /);
		expect(result.stdout + result.stderr).not.toContain('tls-secret');
	});

	it('migrates from a TLS source with every connection encrypted', async () => {
		let stopped = false;
		const result = await runCli(['migrate', '--headless', '--yes', '--tls-ca', certificates.ca, '--state-dir', stateDir(), '--source', source.url, '--target', target.url], {
			env,
			timeoutMs: 60_000,
			onEvent: (event, child) => {
				if (stopped || event.type !== 'stage' || event['stage'] !== 'sync') return;
				stopped = true;
				void source
					.client()
					.set('written-during-sync', 'yes')
					.then(() => child.kill('SIGTERM'));
			},
		});
		expect(result.code, result.stderr).toBe(0);
		expect(await target.client().get('written-during-sync')).toBe('yes');
		const copy = target.client();
		expect(await copy.dbsize()).toBe(202);
		expect(await copy.hgetall('profile')).toEqual({name: 'alice', plan: 'pro'});
		expect(await copy.ttl('key:7')).toBeGreaterThan(590);
	});
});
