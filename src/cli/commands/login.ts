/**
 * `cosign-ts login [SERVER] -u USER (-p PASSWORD | --password-stdin)`: store registry credentials as
 * `cosign login` does (go-containerregistry's `crane auth login`): through the configured credential
 * helper, else in `config.json` (`$DOCKER_CONFIG` or `~/.docker`), the file written byte for byte as
 * cosign writes it. The registry is not contacted. The password is never printed.
 *
 * @module
 */
import type { Command } from '../command.js';
import { info } from '../context.js';
import { CliError, EXIT } from '../errors.js';

const MAX_PASSWORD = 64 * 1024;

export const command: Command = {
  name: 'login',
  short: 'Log in to a registry',
  usage: '[OPTIONS] [SERVER] [flags]',
  examples: `  # Log in to reg.example.com
  cosign-ts login reg.example.com -u AzureDiamond --password-stdin < password.txt`,
  flags: [
    { name: 'password', short: 'p', type: 'string', default: '', help: 'Password' },
    { name: 'password-stdin', type: 'boolean', default: false, help: 'Take the password from stdin' },
    { name: 'username', short: 'u', type: 'string', default: '', help: 'Username' },
  ],
  args: { min: 1, max: 1 },
  async run(ctx, flags) {
    const { loginRegistry, storeCredentials } = await import('../../oci/login.js');
    loginRegistry(flags.args[0] as string); // a bad name fails before stdin is read, as in cosign
    let password = flags.str('password');
    if (flags.bool('password-stdin')) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of ctx.stdin) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
        size += b.length;
        if (size > MAX_PASSWORD) throw new CliError(`password on stdin is longer than ${MAX_PASSWORD} bytes`, EXIT.ERROR, 'TOO_LARGE');
        chunks.push(b);
      }
      // As crane: one trailing "\n", then one "\r", are not part of the password.
      password = Buffer.concat(chunks).toString('utf8').replace(/\n$/, '').replace(/\r$/, '');
    }
    const username = flags.str('username');
    if (username === '' && password === '') throw new CliError('username and password required', EXIT.ERROR, 'USAGE');
    const stored = await storeCredentials(
      flags.args[0] as string,
      { username, password },
      {
        env: ctx.env as NodeJS.ProcessEnv,
        signal: ctx.signal,
      },
    );
    if (stored.unencrypted) {
      // cosign 3's notice (docker/cli's), for a new password written unencrypted to the file.
      ctx.stderr.write(
        `\nWARNING! Your credentials are stored unencrypted in '${stored.configFile}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`,
      );
    }
    info(ctx, `logged in via ${stored.configFile}`);
    return 0;
  },
};
