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
import { MAX_CA_BUNDLE_BYTES, MAX_KEY_FILE_BYTES, readFileLimited } from '../internal/read-file.js';
import type { ImageReference } from '../reference.js';
import type { CliContext } from './context.js';
import { debug } from './context.js';
import { CliError, EXIT } from './errors.js';
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
  if ((flags.str('registry-client-cert') === '') !== (flags.str('registry-client-key') === '')) {
    throw new CliError('--registry-client-cert and --registry-client-key must be given together', EXIT.ERROR, 'USAGE');
  }
}

/** Reads one PEM file of a TLS flag, bounded, checking that it parses. */
async function readPem(flags: Flags, flag: string, kind: 'certificate' | 'key'): Promise<string> {
  const file = { value: flags.str(flag) };
  let text: string;
  try {
    text = await readFileLimited(file.value, MAX_KEY_FILE_BYTES, `--${flag}`, 'utf8');
  } catch (e) {
    if (isCosignError(e, 'TOO_LARGE')) throw new CliError(`reading --${flag}: ${e.message}`, EXIT.ERROR, 'TOO_LARGE', { cause: e });
    throw new CliError(`reading --${flag} ${file.value}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const { X509Certificate, createPrivateKey } = await import('node:crypto');
  try {
    if (kind === 'certificate') new X509Certificate(text);
    else createPrivateKey(text);
  } catch {
    // The message never quotes the file: a key's contents are secret.
    throw new CliError(
      `--${flag} ${file.value}: not a PEM ${kind === 'certificate' ? 'X.509 certificate' : 'private key'}`,
      EXIT.ERROR,
      kind === 'key' ? 'BAD_KEY' : 'BAD_INPUT',
    );
  }
  return text;
}

/** The mutual-TLS and server-name settings of `--registry-client-cert/-key/-server-name`, if any. */
async function clientTls(flags: Flags): Promise<import('../oci/transport.js').RegistryTlsOptions | undefined> {
  const certFile = flags.str('registry-client-cert');
  const serverName = flags.str('registry-server-name');
  if (certFile === '' && serverName === '') return undefined;
  const pair =
    certFile === '' ? {} : { cert: await readPem(flags, 'registry-client-cert', 'certificate'), key: await readPem(flags, 'registry-client-key', 'key') };
  return { ...pair, ...(serverName === '' ? {} : { servername: serverName }) };
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
    const { assertCertificates } = await import('../oci/transport.js');
    try {
      assertCertificates(ca, `--registry-cacert ${caFile}`);
    } catch (e) {
      throw new CliError((e as Error).message, EXIT.ERROR, 'BAD_INPUT');
    }
  }
  const mtls = await clientTls(flags);
  // Like cosign (Go's RootCAs), --registry-cacert replaces the default roots rather than adding to them.
  const tls = ca === undefined ? mtls : { ...mtls, ca, caOnly: true };
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
  // --k8s-keychain: go-containerregistry's k8schain.NewNoClient (docker config, then Google, ECR, ACR,
  // GitHub); as in cosign, it takes precedence over --registry-username/password/token.
  const k8s = flags.bool('k8s-keychain')
    ? oci.k8sNoClientKeychain({
        ...(ctx.env.DOCKER_CONFIG === undefined ? {} : { dockerConfigDir: ctx.env.DOCKER_CONFIG }),
        github: { env: ctx.env },
        onError: (e) => debug(ctx, `k8s keychain: ${e.message} (continuing anonymously)`),
      })
    : undefined;
  const client = new oci.RegistryClient({
    keychain: k8s ?? (explicit === undefined ? dockerConfig : oci.chainKeychains(explicit, dockerConfig)),
    allowHttp: flags.bool('allow-http-registry'),
    insecureSkipVerify: flags.bool('allow-insecure-registry'),
    ...(tls === undefined ? {} : { tls: { '*': tls } }),
    ...(options.maxSockets === undefined ? {} : { maxSockets: options.maxSockets }),
  });
  debug(
    ctx,
    `registry client: allow-http=${flags.bool('allow-http-registry')} allow-insecure=${flags.bool('allow-insecure-registry')} credentials=${k8s !== undefined ? 'k8s keychain' : username !== '' || token !== '' ? 'flags' : 'docker config / anonymous'}`,
  );
  return {
    client,
    signatureRepository: await signatureRepositoryFromEnv(ctx),
    dockerMediaTypes: parseGoBool(ctx.env.COSIGN_DOCKER_MEDIA_TYPES ?? '') === true,
    tagPrefix: flags.str('attachment-tag-prefix'),
  };
}
