/**
 * What the CLI adds to the library's key resolver (`resolveSigner` / `resolvePublicKey` /
 * `readKeyReference`): its environment, the verb's signal, key URLs (cosign fetches them), and the
 * password prompt (`password.ts`), asked only for an encrypted key.
 *
 * @module
 */
import type { KmsOptions } from '../kms/registry.js';
import { isKmsReference, keyRefScheme } from '../kms/scheme.js';
import type { Signer } from '../keys/signer.js';
import { isCosignError } from '../errors.js';
import type { CliContext } from './context.js';
import { debug } from './context.js';
import { CliError, EXIT } from './errors.js';
import { getPassword, passwordSource } from './password.js';

/** The key resolver options of a CLI run: `ctx.env`, `ctx.signal`, and key URLs allowed. */
export function keyOptions(ctx: CliContext): KmsOptions {
  return { env: ctx.env, signal: ctx.signal, allowHttp: true };
}

/**
 * A signer for `--key` (private key file, `env://`, URL, or KMS URI). The password of an encrypted
 * key file comes from {@link getPassword}, asked only then; a wrong one is reported with where it came from.
 */
export async function loadSigner(ctx: CliContext, keyRef: string): Promise<Signer> {
  const kms = isKmsReference(keyRef);
  debug(ctx, `signing key: ${kms ? `KMS ${keyRefScheme(keyRef) ?? ''}` : 'file'} ${keyRef}`);
  let given: string | undefined;
  const prompt = async (): Promise<string> => (given = await getPassword(ctx, false));
  // KMS keys never prompt; a k8s:// secret without cosign.password takes COSIGN_PASSWORD, if set.
  const password = kms ? ctx.env.COSIGN_PASSWORD : prompt;
  const { resolveSigner } = await import('../kms/registry.js');
  try {
    return await resolveSigner(keyRef, { ...keyOptions(ctx), password });
  } catch (e) {
    // Say where the password came from (an empty pipe, a newline from echo, a stale COSIGN_PASSWORD).
    if (given !== undefined && isCosignError(e, 'WRONG_PASSWORD'))
      throw new CliError(`${e.message}; ${passwordSource(ctx, given)}`, EXIT.ERROR, 'WRONG_PASSWORD', { cause: e });
    throw e;
  }
}
