// Test fixture process: takes the kernel lock on argv[2], prints "locked <pid>" and holds it until killed.
import { acquireKernelLock } from '../../src/util/lock.js';

const lock = await acquireKernelLock(process.argv[2]!, { waitMs: Number(process.argv[3] ?? 0) });
process.stdout.write(`locked ${process.pid}\n`);
setInterval(() => lock.stillOurs(), 60_000);
