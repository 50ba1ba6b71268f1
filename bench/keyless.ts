/**
 * `npm run bench -- keyless`: offline keyless verification of one legacy `.sig` layer (GitHub issue
 * #14): the certificate chain to the Fulcio root, the SCT against the CT log key, the Rekor SET and
 * entry body, the signature and the identity, with the public-good trusted root parsed once. Compared
 * with the raw signature checks that verification needs (the crypto floor): the leaf certificate's
 * signature by the intermediate, the intermediate's by the root, an ECDSA P-256 verification standing
 * for the SCT (same curve and hash as the CT log's), the SET and the payload signature, each a
 * `node:crypto` verify on prepared inputs. Target: cosign-ts ≥ 0.5× the floor's throughput.
 *
 * The layer: containers/image's `dir-img-cosign-fulcio-rekor-valid` (a real public-good signature of
 * 2023, fixtures/containers-image). `BENCH_KEYLESS_ITERATIONS` overrides the iteration count.
 */
import { X509Certificate, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseSigstoreJsonSignature, signatureLayerFromSigstoreJson } from '../src/artifact/index.js';
import { rekorSetMessage } from '../src/artifact/rekor.js';
import { identityAuthority, trustFromTrustedRootJson, verifyKeylessLayer } from '../src/verify/index.js';
import { statOf, type ScenarioResult } from './chart.js';
import { compareSync, fmt, type BenchSection, type Row } from './lib.js';

function fixture(rel: string): Buffer {
  return readFileSync(new URL(`../fixtures/${rel}`, import.meta.url));
}

export async function benchKeyless(iterations = Number(process.env.BENCH_KEYLESS_ITERATIONS ?? 200)): Promise<BenchSection> {
  const trust = trustFromTrustedRootJson(fixture('sigstore-go/trust/trusted-root-public-good.json'), 'public-good trusted root');
  const layer = signatureLayerFromSigstoreJson(parseSigstoreJsonSignature(fixture('containers-image/dir-img-cosign-fulcio-rekor-valid/signature-1')));
  const identities = [identityAuthority({ subject: 'mitr@redhat.com', issuer: 'https://github.com/login/oauth' })];
  const run = (): void => {
    verifyKeylessLayer(layer, identities, { trust });
  };
  run(); // throws if the fixture does not verify
  // The floor: the same checks as raw node:crypto verifications on prepared inputs.
  const leaf = new X509Certificate(layer.certificate ?? '');
  const chainPems = (layer.chain ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const inter = new X509Certificate(chainPems[0] ?? '');
  const root = new X509Certificate(chainPems[1] ?? chainPems[0] ?? '');
  const bundle = layer.bundle;
  if (bundle === undefined) throw new Error('fixture has no Rekor bundle');
  const setMsg = rekorSetMessage(bundle);
  const rekor = trust.rekorKeys.find((k) => k.logId === bundle.payload.logID);
  if (rekor === undefined) throw new Error('Rekor key not in the trusted root');
  const leafKey = createPublicKey(leaf.publicKey.export({ type: 'spki', format: 'pem' }));
  const sct = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const sctMsg = Buffer.alloc(1200, 7);
  const sctSig = cryptoSign('sha256', sctMsg, sct.privateKey);
  const floor = (): void => {
    if (!leaf.verify(inter.publicKey)) throw new Error('leaf');
    if (!inter.verify(root.publicKey)) throw new Error('intermediate');
    if (!cryptoVerify('sha256', sctMsg, sct.publicKey, sctSig)) throw new Error('sct');
    if (!cryptoVerify('sha256', setMsg, { key: rekor.key, dsaEncoding: 'der' }, bundle.signedEntryTimestamp)) throw new Error('set');
    if (!cryptoVerify('sha256', layer.payload, { key: leafKey, dsaEncoding: 'der' }, layer.signature)) throw new Error('signature');
  };
  floor();
  const ns = compareSync(run, floor, iterations);
  const us = ns.a / 1000;
  const floorUs = ns.b / 1000;
  const rows: Row[] = [
    {
      measure: 'offline keyless verify of one legacy .sig (chain, SCT, SET + body, signature, identity), µs per image',
      'cosign-ts': fmt(us, 0),
      'crypto floor': fmt(floorUs, 0),
      ratio: `${fmt(floorUs / us)}× of the floor's throughput (target ≥ 0.50×)`,
    },
  ];
  const results: ScenarioResult[] = [
    {
      section: 'keyless',
      name: 'Offline keyless verify of one legacy .sig: cosign-ts vs raw signature checks (floor)',
      unit: 'µs',
      series: { 'cosign-ts': statOf([us]), floor: statOf([floorUs]) },
    },
  ];
  return { rows, results };
}
