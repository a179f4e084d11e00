/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl, for TLS tests. */
import {execFileSync} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

export interface TestCertificates {
	dir: string;
	ca: string;
	cert: string;
	key: string;
}

export function makeCertificates(): TestCertificates {
	const dir = mkdtempSync(join(tmpdir(), 'keyferry-tls-'));
	const file = (name: string) => join(dir, name);
	const openssl = (...args: string[]) => execFileSync('openssl', args, {stdio: 'ignore'});
	openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=keyferry test CA', '-keyout', file('ca.key'), '-out', file('ca.crt'));
	openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
	execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > '${file('san.ext')}'`]);
	openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('san.ext'), '-out', file('server.crt'));
	return {dir, ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key')};
}
