/**
 * Signing configurations: parsing (strict at the boundary), and the selection of one Fulcio, Rekor and TSA valid
 * now with an API version we speak, as sigstore-go selects them; the file cosign 3.1 `signing-config create`
 * writes is read as written.
 */
import { describe, expect, it } from 'vitest';
import { CosignError } from '../../src/errors.js';
import { parseSigningConfig, SIGNING_CONFIG_V02_MEDIA_TYPE } from '../../src/sign/signing-config.js';

// written by `cosign signing-config create` (cosign 3.1.1) with --no-default-* and one service of each kind
const COSIGN3_WRITTEN =
  '{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","caUrls":[{"url":"http://127.0.0.1:1","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00Z"},"operator":"mock"}],"rekorTlogUrls":[{"url":"http://127.0.0.1:1","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00Z"},"operator":"mock"}],"rekorTlogConfig":{"selector":"ANY"},"tsaUrls":[{"url":"http://127.0.0.1:1/api/v1/timestamp","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00Z"},"operator":"mock"}],"tsaConfig":{"selector":"EXACT","count":1}}';

const svc = (url: string, v: number, start: string, end?: string) => ({
  url,
  majorApiVersion: v,
  validFor: { start, ...(end === undefined ? {} : { end }) },
  operator: 'x',
});
const cfg = (o: Record<string, unknown>) => JSON.stringify({ mediaType: SIGNING_CONFIG_V02_MEDIA_TYPE, ...o });
const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof CosignError ? e.code : 'not a CosignError';
  }
};

describe('parseSigningConfig', () => {
  it('reads what cosign 3.1 writes', () => {
    expect(parseSigningConfig(COSIGN3_WRITTEN)).toEqual({
      fulcioURL: 'http://127.0.0.1:1',
      witness: { rekorURL: 'http://127.0.0.1:1', rekorVersion: 1, tsaURL: 'http://127.0.0.1:1/api/v1/timestamp' },
    });
  });
  it('selects services valid now, the highest API version we speak, then the newest', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const c = cfg({
      caUrls: [
        svc('https://old-ca', 1, '2020-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
        svc('https://ca', 1, '2025-01-01T00:00:00Z'),
        svc('https://ca-v2', 2, '2025-01-01T00:00:00Z'),
      ],
      rekorTlogUrls: [
        svc('https://rekor1', 1, '2021-01-01T00:00:00Z'),
        svc('https://rekor2', 2, '2025-06-01T00:00:00Z'),
        svc('https://rekor3', 3, '2025-06-01T00:00:00Z'),
      ],
      rekorTlogConfig: { selector: 'ANY' },
      tsaUrls: [svc('https://tsa-future', 1, '2027-01-01T00:00:00Z'), svc('https://tsa', 1, '2024-01-01T00:00:00Z')],
      tsaConfig: { selector: 'ANY' },
    });
    expect(parseSigningConfig(c, now)).toEqual({ fulcioURL: 'https://ca', witness: { rekorURL: 'https://rekor2', rekorVersion: 2, tsaURL: 'https://tsa' } });
  });
  it('a kind with no URLs is not used: no Rekor upload, no timestamp', () => {
    expect(parseSigningConfig(cfg({ caUrls: [svc('https://ca', 1, '2024-01-01T00:00:00Z')] }))).toEqual({ fulcioURL: 'https://ca', witness: {} });
  });
  it('refuses what it cannot honour instead of skipping a service the deployment requires', () => {
    const two = [svc('https://a', 1, '2024-01-01T00:00:00Z'), svc('https://b', 1, '2024-01-01T00:00:00Z')];
    expect(code(() => parseSigningConfig(cfg({ rekorTlogUrls: two, rekorTlogConfig: { selector: 'ALL' } })))).toBe('UNSUPPORTED');
    expect(code(() => parseSigningConfig(cfg({ tsaUrls: two, tsaConfig: { selector: 'EXACT', count: 2 } })))).toBe('UNSUPPORTED');
    expect(code(() => parseSigningConfig(cfg({ caUrls: [svc('https://ca', 1, '2024-01-01T00:00:00Z', '2024-06-01T00:00:00Z')] })))).toBe('BAD_INPUT');
  });
  it('rejects malformed files with BAD_INPUT or TOO_LARGE', () => {
    expect(code(() => parseSigningConfig('{'))).toBe('BAD_INPUT');
    expect(code(() => parseSigningConfig(cfg({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.1+json' })))).toBe('BAD_INPUT');
    expect(code(() => parseSigningConfig(cfg({ caUrls: [{ url: 'not a url' }] })))).toBe('BAD_INPUT');
    expect(code(() => parseSigningConfig(cfg({ caUrls: [svc('https://ca', 1, 'yesterday')] })))).toBe('BAD_INPUT');
    expect(code(() => parseSigningConfig(cfg({ caUrls: 'x' })))).toBe('BAD_INPUT');
    expect(code(() => parseSigningConfig(' '.repeat(1024 * 1024 + 1)))).toBe('TOO_LARGE');
    expect(code(() => parseSigningConfig('{"mediaType":"a","mediaType":"b"}'))).toBe('BAD_INPUT');
  });
});
