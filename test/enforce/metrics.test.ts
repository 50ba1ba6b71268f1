import { describe, expect, it } from 'vitest';
import { KillerMetrics } from '../../src/enforce/index.js';

describe('metrics', () => {
  it('serves counters, a cumulative histogram and the cache gauge', async () => {
    const m = new KillerMetrics();
    m.cacheHitRatio = () => 0.75;
    m.observeVerification(0.003, { ok: true });
    m.observeVerification(0.2, { ok: false, definitive: false, code: 'REGISTRY_UNAVAILABLE', reason: 'down' });
    m.observeCycle({
      startedAt: new Date(),
      durationMs: 1,
      checked: 3,
      events: [
        { containerId: 'a', containerName: 'a', image: 'i', action: 'killed' },
        { containerId: 'b', containerName: 'b', image: 'i', action: 'audit' },
      ],
    });
    const server = await m.serve(0);
    try {
      const text = await (await fetch(server.url)).text();
      expect(text).toContain('# TYPE cosign_killer_containers_killed_total counter');
      expect(text).toContain('cosign_killer_containers_checked_total 3');
      expect(text).toContain('cosign_killer_containers_killed_total 1');
      expect(text).toContain('cosign_killer_audit_violations_total 1');
      expect(text).toContain('cosign_killer_verification_errors_total 1');
      expect(text).toContain('cosign_killer_verification_seconds_bucket{le="0.005"} 1');
      expect(text).toContain('cosign_killer_verification_seconds_bucket{le="0.25"} 2');
      expect(text).toContain('cosign_killer_verification_seconds_bucket{le="+Inf"} 2');
      expect(text).toContain('cosign_killer_verification_seconds_count 2');
      expect(text).toContain('cosign_killer_cache_hit_ratio 0.75');
    } finally {
      await server.close();
    }
  });
});
