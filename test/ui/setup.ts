/**
 * Imported first by every UI test file. Ink decides at import time whether it runs in CI (is-in-ci)
 * and then renders only a final frame and ignores resizes; these tests need live frames. Log times
 * are printed in local time, so the zone is pinned.
 */
delete process.env['CI'];
delete process.env['CONTINUOUS_INTEGRATION'];
process.env['TZ'] = 'UTC';
