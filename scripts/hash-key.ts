// Hashes an API key for the `api-key-auth` plugin's config, which stores only hashes.
//   npm run hash-key -- my-secret-key        (the key ends up in shell history)
//   printf %s "$KEY" | npm run hash-key       (reads the key from stdin)
//   npm run hash-key -- --generate            (makes a new random key and prints both)
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { hashKey, type HashAlgorithm } from '../plugins/sdk/keys.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    generate: { type: 'boolean', default: false },
    algorithm: { type: 'string', default: 'sha256' },
  },
});

const algorithm = values.algorithm as string;
if (algorithm !== 'sha256' && algorithm !== 'sha512') {
  process.stderr.write(`hash-key: --algorithm must be sha256 or sha512, not "${algorithm}"\n`);
  process.exit(2);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // A trailing newline from `echo` is never part of the key.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

let key: string;
if (values.generate) {
  key = `gw_${randomBytes(24).toString('base64url')}`;
  process.stdout.write(`key:  ${key}\n`);
} else if (positionals.length > 0) {
  key = positionals.join(' ');
} else if (!process.stdin.isTTY) {
  key = await readStdin();
} else {
  process.stderr.write('usage: npm run hash-key -- <key> | --generate   (or pipe the key on stdin)\n');
  process.exit(2);
}
if (key.length === 0) {
  process.stderr.write('hash-key: the key is empty\n');
  process.exit(2);
}
process.stdout.write(`${values.generate ? 'hash: ' : ''}${hashKey(key, algorithm as HashAlgorithm)}\n`);
