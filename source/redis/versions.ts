/**
 * Server versions and the RDB version of their DUMP payloads (DESIGN.md). RESTORE refuses a
 * payload from a newer RDB version, so this decides between DUMP and the logical copy.
 */

export function compareVersions(a: string, b: string): number {
	const pa = a.split('.').map((part) => Number.parseInt(part, 10) || 0);
	const pb = b.split('.').map((part) => Number.parseInt(part, 10) || 0);
	for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
		const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
		if (diff !== 0) return Math.sign(diff);
	}
	return 0;
}

/** RDB version a server writes (and the newest it reads); null when the version is unknown to us. */
export function rdbVersionFor(server: 'redis' | 'valkey', version: string): number | null {
	const at = (floor: string) => compareVersions(version, floor) >= 0;
	if (server === 'valkey') {
		if (at('10.0.0')) return null;
		if (at('9.0.0')) return 80;
		if (at('7.2.0')) return 11;
		return null;
	}
	if (at('9.0.0')) return null;
	if (at('7.4.0')) return 12;
	if (at('7.2.0')) return 11;
	if (at('7.0.0')) return 10;
	if (at('5.0.0')) return 9;
	if (at('4.0.0')) return 8;
	return null;
}

/** A DUMP payload ends with the RDB version (2 bytes, little endian) and a CRC64 (8 bytes). */
export function rdbVersionOfPayload(payload: Buffer): number | null {
	if (payload.length < 11) return null;
	return payload.readUInt16LE(payload.length - 10);
}
