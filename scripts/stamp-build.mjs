// Marks a finished build so scripts/setup.sh can tell when the sources are newer than dist/.
import { writeFileSync, mkdirSync } from 'node:fs';
mkdirSync('dist', { recursive: true });
writeFileSync('dist/.build-stamp', new Date().toISOString() + '\n');
