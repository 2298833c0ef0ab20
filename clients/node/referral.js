// Plays a referral scenario through @segment/analytics-node against rehook-mock's front door.
//
//   node referral.js <base URL of the fake> [write key]
//
// An advocate identifies with a referral code, a friend signs up with that code, an
// anonymous-only visitor views a product, and the friend views a page. The SDK batches the
// calls, posts them to <base URL>/v1/batch (retrying as it always does), and the script exits
// once everything is flushed: 0 when every batch was accepted, 1 otherwise.
'use strict';

const { Analytics } = require('@segment/analytics-node');

const [host, writeKey = 'wk_test'] = process.argv.slice(2);
if (!host) {
  console.error('usage: node referral.js <base URL> [write key]');
  process.exit(2);
}

const analytics = new Analytics({
  writeKey,
  host,
  path: '/v1/batch',
  // One batch for the whole scenario, sent when the script flushes.
  flushAt: 20,
  flushInterval: 60000,
  httpRequestTimeout: 10000,
});

let failed = false;
analytics.on('error', (error) => {
  failed = true;
  console.error('analytics-node error:', error && (error.reason || error.message || error));
});

analytics.identify({
  userId: 'node-advocate',
  traits: { name: 'Nora Node', plan: 'pro', referral_code: 'NODEADV', newsletter: false },
});
analytics.track({
  userId: 'node-friend',
  event: 'signup',
  properties: { referral_code: 'NODEADV', source: 'invite-link' },
});
analytics.track({
  anonymousId: 'node-anon-1',
  event: 'Product Viewed',
  properties: { sku: 'sku-1' },
});
analytics.page({
  userId: 'node-friend',
  name: 'Pricing',
  properties: { path: '/pricing' },
});

analytics
  .closeAndFlush({ timeout: 30000 })
  .then(() => process.exit(failed ? 1 : 0))
  .catch((error) => {
    console.error('flush failed:', error);
    process.exit(1);
  });
