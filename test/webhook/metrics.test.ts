/** WebhookMetrics: the Prometheus text exposition of reviews, images, latency, cache and registry figures. */
import { describe, expect, it } from 'vitest';
import { WebhookMetrics } from '../../src/webhook/index.js';

describe('WebhookMetrics', () => {
  it('renders counters by label, a cumulative histogram, and the sources’ cache and registry figures', () => {
    const m = new WebhookMetrics();
    m.observeReview('validate', 'allowed', 0.002, [{ result: 'verified' }, { result: 'allowed' }], false);
    m.observeReview('validate', 'denied', 0.3, [{ result: 'denied' }], true);
    m.observeReview('mutate', 'allowed', 0.004, [{ result: 'verified' }], false);
    m.deadlinesReached = 2;
    m.sources = { verifications: () => 5, cacheStats: () => ({ hits: 6, misses: 2, joined: 2 }), registryRequests: () => 17 };
    const text = m.render();
    expect(text).toContain('cosign_webhook_reviews_total{endpoint="validate",result="allowed",dry_run="false"} 1');
    expect(text).toContain('cosign_webhook_reviews_total{endpoint="validate",result="denied",dry_run="true"} 1');
    expect(text).toContain('cosign_webhook_images_total{result="verified"} 2');
    expect(text).toContain('cosign_webhook_review_seconds_bucket{le="0.0025"} 1');
    expect(text).toContain('cosign_webhook_review_seconds_bucket{le="0.005"} 2');
    expect(text).toContain('cosign_webhook_review_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('cosign_webhook_review_seconds_count 3');
    expect(text).toContain('cosign_webhook_deadlines_reached_total 2');
    expect(text).toContain('cosign_webhook_verifications_total 5');
    expect(text).toContain('cosign_webhook_cache_lookups_total{result="joined"} 2');
    expect(text).toContain('cosign_webhook_cache_hit_ratio 0.8');
    expect(text).toContain('cosign_webhook_registry_requests_total 17');
    // every sample line is `name{labels} value` or `name value`; HELP and TYPE for each family
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) cosign_webhook_\w+ .+|cosign_webhook_\w+(\{[^}]*\})? [0-9.e+-]+)$/);
  });

  it('renders zeros before any review and without sources', () => {
    const text = new WebhookMetrics().render();
    expect(text).toContain('cosign_webhook_review_seconds_count 0');
    expect(text).toContain('cosign_webhook_cache_hit_ratio 0');
  });
});
