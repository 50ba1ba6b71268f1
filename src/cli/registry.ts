/**
 * The registry client for a CLI run, built from cosign's registry flags (`--allow-insecure-registry`,
 * `--allow-http-registry`, `--registry-username/password/token`, `--registry-cacert`) and the Docker
 * config keychain; plus `COSIGN_REPOSITORY`, `COSIGN_DOCKER_MEDIA_TYPES` and the attachment tag prefix.
 *
 * The client module (`src/oci`) is imported only by verbs that talk to a registry.
 *
 * @module
 */
import { isCosignError } from '../errors.js';
import { MAX_CA_BUNDLE_BYTES, readFileLimited } from '../internal/read-file.js';
import type { ImageReference } from '../reference.js';
import type { CliContext } from './context.js';
import { debug } from './context.js';
import { CliError, EXIT, unsupported } from './errors.js';
import type { Flags } from './flags.js';
import { parseGoBool } from './flags.js';

import type { RegistryClient } from '../oci/client.js';

export type { RegistryClient };

/** Registry-related settings of one run. */
export interface RegistrySettings {
  readonly client: RegistryClient;
  /** `COSIGN_REPOSITORY`, parsed. */
  readonly signatureRepository: ImageReference | undefined;
  /** `COSIGN_DOCKER_MEDIA_TYPES` is true. */
  readonly dockerMediaTypes: boolean;
  /** `--attachment-tag-prefix`. */
  readonly tagPrefix: string;
}

/** Refuse registry flags cosign-ts cannot honour yet (never silently ignored). */
export function checkRegistryFlags(flags: Flags): void {
  for (const f of ['registry-client-cert', 'registry-client-key', 'registry-server-name']) {
    if (flags.str(f) !== '') throw unsupported(`--${f} (mutual TLS to the registry)`);
  }
  if (flags.bool('k8s-keychain')) throw unsupported('--k8s-keychain');
}

/** `COSIGN_REPOSITORY`, parsed as `registry/repo`. */
export async function signatureRepositoryFromEnv(ctx: CliContext): Promise<ImageReference | undefined> {
  const v = ctx.env.COSIGN_REPOSITORY;
  if (v === undefined || v === '') return undefined;
  const { parseRepository } = await import('../reference.js');
  try {
    return parseRepository(v);
  } catch (e) {
    throw new CliError(`COSIGN_REPOSITORY: ${(e as Error).message}`);
  }
}

/** Build the client and settings for this run (`maxSockets`: connections per registry, default the client's). */
export async function registrySettings(ctx: CliContext, flags: Flags, options: { readonly maxSockets?: number } = {}): Promise<RegistrySettings> {
  checkRegistryFlags(flags);
  const caFile = flags.str('registry-cacert');
  let ca: string | undefined;
  if (caFile !== '') {
    try {
      ca = await readFileLimited(caFile, MAX_CA_BUNDLE_BYTES, 'CA bundle', 'utf8');
    } catch (e) {
      if (isCosignError(e, 'TOO_LARGE')) throw new CliError(`reading --registry-cacert: ${e.message}`, EXIT.ERROR, 'TOO_LARGE', { cause: e });
      throw new CliError(`reading --registry-cacert ${caFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const username = flags.str('registry-username');
  const password = flags.str('registry-password');
  const token = flags.str('registry-token');
  const oci = await import('../oci/index.js');
  const explicit: import('../oci/keychain.js').Keychain | undefined =
    token !== ''
      ? { resolve: async () => ({ registryToken: token }) }
      : username !== '' || password !== ''
        ? { resolve: async () => ({ username, password }) }
        : undefined;
  const dockerConfig = oci.dockerConfigKeychain(ctx.env.DOCKER_CONFIG === undefined ? {} : { configDir: ctx.env.DOCKER_CONFIG });
  const client = new oci.RegistryClient({
    keychain: explicit === undefined ? dockerConfig : oci.chainKeychains(explicit, dockerConfig),
    allowHttp: flags.bool('allow-http-registry'),
    insecureSkipVerify: flags.bool('allow-insecure-registry'),
    ...(ca === undefined ? {} : { ca }),
    ...(options.maxSockets === undefined ? {} : { maxSockets: options.maxSockets }),
  });
  debug(
    ctx,
    `registry client: allow-http=${flags.bool('allow-http-registry')} allow-insecure=${flags.bool('allow-insecure-registry')} credentials=${username !== '' || token !== '' ? 'flags' : 'docker config / anonymous'}`,
  );
  return {
    client,
    signatureRepository: await signatureRepositoryFromEnv(ctx),
    dockerMediaTypes: parseGoBool(ctx.env.COSIGN_DOCKER_MEDIA_TYPES ?? '') === true,
    tagPrefix: flags.str('attachment-tag-prefix'),
  };
}
