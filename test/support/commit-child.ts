// Test fixture process: commits files into argv[2] with commitFiles (argv[3] is JSON {name: content}); a fault point armed in its environment kills it mid-commit.
import { commitFiles } from '../../src/util/fs.js';

const files = Object.entries(JSON.parse(process.argv[3]!) as Record<string, string>).map(([name, data]) => ({ name, data }));
await commitFiles(process.argv[2]!, files);
process.stdout.write('committed\n');
