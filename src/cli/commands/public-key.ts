/**
 * `cosign-ts public-key --key REF [--outfile FILE]`: the public key of a private key file or KMS key,
 * as PEM on stdout or in a file.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from '../command.js';
import { OUTPUT_FLAG } from '../command.js';
import { info, out } from '../context.js';
import { CliError } from '../errors.js';
import { loadSigner } from '../keyref.js';

export const command: Command = {
  name: 'public-key',
  short: 'Gets a public key from the key-pair.',
  long: 'Gets a public key from the key-pair and\nwrites to a specified file. By default, it will write to standard out.',
  usage: '[flags]',
  examples: `  # extract public key from private key to a specified out file.
  cosign-ts public-key --key <PRIVATE KEY FILE> --outfile <OUTPUT>

  # extract public key from URL.
  cosign-ts public-key --key https://host.for/<FILE> --outfile <OUTPUT>

  # extract public key from Azure Key Vault
  cosign-ts public-key --key azurekms://[VAULT_NAME][VAULT_URI]/[KEY]

  # extract public key from AWS KMS
  cosign-ts public-key --key awskms://[ENDPOINT]/[ID/ALIAS/ARN]

  # extract public key from Google Cloud KMS
  cosign-ts public-key --key gcpkms://projects/[PROJECT]/locations/global/keyRings/[KEYRING]/cryptoKeys/[KEY]

  # extract public key from Hashicorp Vault KMS
  cosign-ts public-key --key hashivault://[KEY]

  # extract public key from a Kubernetes secret
  cosign-ts public-key --key k8s://[NAMESPACE]/[SECRET]`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the private key file, KMS URI or Kubernetes Secret' },
    { name: 'outfile', type: 'string', default: '', help: 'path to a file to write the public key to (default: standard output)' },
    { name: 'sk', type: 'boolean', default: false, help: 'whether to use a hardware security key (not supported yet)' },
    { name: 'slot', type: 'string', default: '', help: 'security key slot (not supported yet)' },
    OUTPUT_FLAG,
  ],
  args: { min: 0, max: 1 },
  async run(ctx, flags) {
    const keyRef = flags.str('key');
    if (flags.bool('sk')) throw new CliError('hardware security keys (--sk) are not supported by cosign-ts yet', 1, 'UNSUPPORTED');
    if (keyRef === '') throw new CliError('exactly one of: key reference (--key), or hardware token (--sk) must be provided', 1, 'USAGE');
    const signer = await loadSigner(ctx, keyRef);
    const pem = (await signer.publicKey()).export({ type: 'spki', format: 'pem' }).toString();
    const outfile = flags.str('outfile');
    const json = flags.str('output') === 'json';
    if (outfile !== '') {
      try {
        await writeFile(outfile, pem, { mode: 0o600 });
      } catch (e) {
        throw new CliError(`open ${outfile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      info(ctx, `Public key written to ${outfile}`);
      if (json) out(ctx, `${JSON.stringify({ publicKey: outfile, publicKeyPem: pem })}\n`);
      return 0;
    }
    out(ctx, json ? `${JSON.stringify({ publicKeyPem: pem })}\n` : pem);
    return 0;
  },
};
