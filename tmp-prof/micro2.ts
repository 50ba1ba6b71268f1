import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { signerFromPrivateKey } from '../src/keys/index.js';
import { anonymousKeychain, RegistryClient } from '../src/oci/index.js';
import { parseReference } from '../src/reference.js';
import { signImage } from '../src/sign/index.js';
import { pushSampleImage, startTestRegistry } from '../src/testing/index.js';
import { AdmissionController, importPolicies, parseAdmissionReview } from '../src/webhook/index.js';
import { parseJson } from '../src/json/strict.js';

const reg = await startTestRegistry();
const client = new RegistryClient({ keychain: anonymousKeychain });
const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = signerFromPrivateKey(kp.privateKey, 'bench.key');
const refs: string[] = [];
for (let i = 0; i < 5; i++) {
  const ref = `${reg.host}/fleet/app${i}:v1`;
  const d = await pushSampleImage(client, ref, { i: String(i) });
  await signImage(`${parseReference(ref).name}@${d}`, signer, { client });
  refs.push(ref);
}
const pem = kp.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const { policy } = importPolicies(`apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: { name: fleet }\nspec:\n  images: [{ glob: "${reg.host}/fleet/*" }]\n  authorities:\n    - key:\n        data: ${JSON.stringify(pem)}\n`);
const controller = new AdmissionController({ policy, keychain: () => anonymousKeychain, tagTtlMs: 60_000 });
const body = (i: number, image: string) => Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' }, name: 'a', namespace: 'default', operation: 'CREATE', userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] }, object: { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'a', namespace: 'default', labels: { app: 'a' } }, spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'app', image, resources: {} }] } }, strategy: {} }, status: {} }, oldObject: null, dryRun: false, options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-create' } } }));
const bodies = Array.from({ length: 100 }, (_, i) => body(i, refs[i % 5] as string));
for (const b of bodies) await controller.review(parseAdmissionReview(b));
const N = 200000;
const time = async (name: string, f: (i: number) => unknown) => {
  for (let i = 0; i < 2000; i++) await f(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await f(i);
  console.log(name.padEnd(30), (((performance.now() - t0) * 1000) / N).toFixed(2), 'µs');
};



const parsed = bodies.map((b) => parseAdmissionReview(b));
await time('review (warm)', (i) => controller.review(parsed[i % 100]!));
const ac = new AbortController();
await time('review (warm, signal)', (i) => controller.review(parsed[i % 100]!, { signal: ac.signal }));

const d = await controller.review(parsed[0]!);

controller.close(); client.close(); await reg.close();
