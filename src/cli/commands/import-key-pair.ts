/**
 * `cosign-ts import-key-pair --key FILE`: re-encrypt an unencrypted PEM private key (RSA, ECDSA or
 * Ed25519) in cosign's format, written to `import-cosign.key` / `import-cosign.pub`.
 *
 * @module
 */
import type { Command } from '../command.js';
import { OUTPUT_FLAG } from '../command.js';
import { out } from '../context.js';
import { UsageError } from '../errors.js';
import { confirmOverwrite, writePair } from '../keyfiles.js';
import { keyOptions } from '../keyref.js';
import { getPassword } from '../password.js';

export const command: Command = {
  name: 'import-key-pair',
  short: 'Imports a PEM-encoded RSA, EC or Ed25519 private key.',
  long: "Imports a PEM-encoded RSA, EC or Ed25519 private key for signing (RSA PRIVATE KEY, EC PRIVATE KEY\nor PRIVATE KEY) and writes it encrypted with a password in cosign's format.",
  usage: '[flags]',
  examples: `  cosign-ts import-key-pair  --key openssl.key --output-key-prefix my-key

  # import PEM-encoded RSA or EC private key and write to import-cosign.key and import-cosign.pub files
  cosign-ts import-key-pair --key <key path>

  # import PEM-encoded RSA or EC private key and write to my-key.key and my-key.pub files
  cosign-ts import-key-pair --key <key path> --output-key-prefix my-key`,
  notes: `CAVEATS:
  This command interactively prompts for a password. You can use
  the COSIGN_PASSWORD environment variable to provide one.`,
  flags: [
    { name: 'key', short: 'k', type: 'string', default: '', help: 'import key pair to use for signing' },
    { name: 'output-key-prefix', short: 'o', type: 'string', default: 'import-cosign', help: 'name used for outputted key pairs' },
    { name: 'yes', short: 'y', type: 'boolean', default: false, help: 'skip confirmation prompts for overwriting existing key' },
    OUTPUT_FLAG,
  ],
  args: { min: 0, max: 0 },
  async run(ctx, flags) {
    const keyRef = flags.str('key');
    if (keyRef === '') throw new UsageError('required flag(s) "key" not set');
    const { readKeyReference } = await import('../../keys/resolve.js');
    const pem = await readKeyReference(keyRef, keyOptions(ctx));
    const password = await getPassword(ctx, true);
    const { importKeyPair } = await import('../../keys/private.js');
    const pair = importKeyPair(pem, password);
    const prefix = flags.str('output-key-prefix');
    await confirmOverwrite(ctx, prefix, flags.bool('yes'));
    const written = await writePair(ctx, prefix, pair);
    if (flags.str('output') === 'json') out(ctx, `${JSON.stringify(written)}\n`);
    return 0;
  },
};
