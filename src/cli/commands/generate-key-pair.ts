/**
 * `cosign-ts generate-key-pair`: an ECDSA P-256 key pair encrypted with a password, written to
 * `<prefix>.key` (0600) and `<prefix>.pub` (0644); with `--kms URI`, the public key of an existing KMS
 * key is written to `<prefix>.pub` (cosign would also create the KMS key if missing; cosign-ts never
 * creates KMS keys).
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from '../command.js';
import { OUTPUT_FLAG } from '../command.js';
import { info, out } from '../context.js';
import { CliError, unsupported } from '../errors.js';
import { confirmOverwrite, writePair } from '../keyfiles.js';
import { keyOptions } from '../keyref.js';
import { getPassword } from '../password.js';

export const command: Command = {
  name: 'generate-key-pair',
  short: 'Generates a key-pair.',
  long: 'Generates a key-pair for signing: an ECDSA P-256 private key encrypted with a password\n(cosign.key) and its public key (cosign.pub).',
  usage: '[flags]',
  examples: `  cosign-ts generate-key-pair [--kms KMSPATH]

  # generate key-pair and write to cosign.key and cosign.pub files
  cosign-ts generate-key-pair

  # generate key-pair and write to custom named my-name.key and my-name.pub files
  cosign-ts generate-key-pair --output-key-prefix my-name

  # non-interactive: password from the environment (the empty password is allowed)
  COSIGN_PASSWORD=... cosign-ts generate-key-pair

  # write the public key of an existing AWS KMS key to cosign.pub (the KMS key is not created)
  cosign-ts generate-key-pair --kms awskms:///alias/my-key

  # the same for Google Cloud KMS, Azure Key Vault, HashiCorp Vault
  cosign-ts generate-key-pair --kms gcpkms://projects/[PROJECT]/locations/global/keyRings/[KEYRING]/cryptoKeys/[KEY]
  cosign-ts generate-key-pair --kms azurekms://[VAULT_NAME][VAULT_URI]/[KEY]
  cosign-ts generate-key-pair --kms hashivault://[KEY]`,
  notes: `CAVEATS:
  This command interactively prompts for a password. You can use
  the COSIGN_PASSWORD environment variable to provide one.
  Creating keys inside a KMS, a Kubernetes secret or a GitLab/GitHub project
  (cosign generate-key-pair k8s://…) is not supported yet.`,
  flags: [
    { name: 'kms', type: 'string', default: '', help: 'write the public key of this existing KMS key to <prefix>.pub (the KMS key is not created)' },
    { name: 'output-key-prefix', type: 'string', default: 'cosign', help: 'name used for generated .pub and .key files (defaults to `cosign`)' },
    OUTPUT_FLAG,
  ],
  args: { min: 0, max: 1 },
  async run(ctx, flags) {
    const prefix = flags.str('output-key-prefix');
    const json = flags.str('output') === 'json';
    const kms = flags.str('kms');
    if (kms !== '') {
      const { resolvePublicKey } = await import('../../kms/registry.js');
      const key = await resolvePublicKey(kms, keyOptions(ctx));
      const pem = key.export({ type: 'spki', format: 'pem' }).toString();
      const file = `${prefix}.pub`;
      try {
        await writeFile(file, pem, { mode: 0o600 });
      } catch (e) {
        throw new CliError(`open ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      info(ctx, `Public key written to ${file}`);
      if (json) out(ctx, `${JSON.stringify({ publicKey: file, kms })}\n`);
      return 0;
    }
    const arg = flags.args[0];
    if (arg !== undefined) {
      if (!arg.includes('://')) throw new CliError('could not parse scheme, use <scheme>://<ref> format');
      throw unsupported(`creating a key pair in ${arg.split('://')[0]}://`);
    }
    const password = await getPassword(ctx, true);
    const { generateKeyPair } = await import('../../keys/private.js');
    const pair = generateKeyPair(password);
    await confirmOverwrite(ctx, prefix, false);
    const written = await writePair(ctx, prefix, pair);
    if (json) out(ctx, `${JSON.stringify(written)}\n`);
    return 0;
  },
};
