/**
 * The install hint for a missing optional SDK: `npm install -g` under a global install of cosign-ts.
 */
import { describe, expect, it } from 'vitest';
import { sdkInstallCommand } from '../../src/kms/sdk.js';

const PKG = '@aws-sdk/client-kms';

describe('sdkInstallCommand', () => {
  it('says npm install -g when cosign-ts is installed globally', () => {
    // next to the running Node (the usual global prefix), nvm-style
    expect(sdkInstallCommand(PKG, { modulePath: '/usr/local/lib/node_modules/cosign-ts/dist/kms/sdk.js', env: {}, execPath: '/usr/local/bin/node' })).toBe(
      `npm install -g ${PKG}`,
    );
    expect(
      sdkInstallCommand(PKG, {
        modulePath: '/home/u/.nvm/versions/node/v24.1.0/lib/node_modules/cosign-ts/dist/cli/bundle/cli.cjs',
        env: {},
        execPath: '/home/u/.nvm/versions/node/v24.1.0/bin/node',
      }),
    ).toBe(`npm install -g ${PKG}`);
    // a prefix of its own (npm_config_prefix), and npx/npm exec with --global
    expect(
      sdkInstallCommand(PKG, {
        modulePath: '/opt/npm-global/lib/node_modules/cosign-ts/dist/kms/sdk.js',
        env: { npm_config_prefix: '/opt/npm-global' },
        execPath: '/usr/bin/node',
      }),
    ).toBe(`npm install -g ${PKG}`);
    expect(
      sdkInstallCommand(PKG, { modulePath: '/srv/app/node_modules/cosign-ts/dist/kms/sdk.js', env: { npm_config_global: 'true' }, execPath: '/usr/bin/node' }),
    ).toBe(`npm install -g ${PKG}`);
  });

  it('says npm install in a project', () => {
    expect(sdkInstallCommand(PKG, { modulePath: '/srv/app/node_modules/cosign-ts/dist/kms/sdk.js', env: {}, execPath: '/usr/local/bin/node' })).toBe(
      `npm install ${PKG}`,
    );
    expect(sdkInstallCommand(PKG, { modulePath: '', env: {}, execPath: '/usr/bin/node' })).toBe(`npm install ${PKG}`);
  });
});
