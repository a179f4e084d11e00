import Redis from 'ioredis';
import {fullCompare} from '../source/verify/full-compare';
const s = new Redis({port:17301}), t = new Redis({port:17302});
const t0 = Date.now(); let fwdEnd = 0;
const r = await fullCompare({sourceFor: async () => s, targetFor: async () => t}, {ttlToleranceMs: 1000, dbs: [0], onDiscrepancy: () => {}, onProgress: (c) => { if (c >= 1000000 && !fwdEnd) fwdEnd = Date.now(); }});
console.log(r, 'forward', fwdEnd - t0, 'reverse', Date.now() - fwdEnd, Math.round(r.checked / r.durationMs * 1000), 'keys/s');
s.disconnect(); t.disconnect();
