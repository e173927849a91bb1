import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { decryptEvent } from '../../lib/feishu/webhook/decrypt-event.js';
import { readEnvelope, toInboundEvent } from '../../lib/feishu/webhook/event-envelope.js';
import { MAX_EVENT_DEPTH, webhookRoutes } from '../../lib/feishu/webhook/webhook-routes.js';
import { messageEnvelope, webhookRequest } from '../support/ingress-events.js';
import {
  createWebhookFuzzTarget,
  defaultFuzzSecrets,
  type FuzzRouteParts,
  fuzzSeed,
  refusedWithoutKeyCases,
  runWebhookFuzz,
  webhookFuzzCases,
} from './webhook-fuzz-harness.js';

const seed = fuzzSeed();

/** Runs the harness against `routes` and returns what it threw (it must throw). */
async function fuzzFailure(
  routes: (parts: FuzzRouteParts) => Hono,
  cases = webhookFuzzCases(defaultFuzzSecrets),
): Promise<{ report: string; violation: string }> {
  const target = await createWebhookFuzzTarget({ routes });
  try {
    await runWebhookFuzz({ target, seed, numRuns: 200, cases });
  } catch (error) {
    const report = error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error ? error.cause : undefined;
    return { report, violation: cause instanceof Error ? cause.message : report };
  } finally {
    await target.close();
  }
  throw new Error('the fuzz harness passed a broken handler');
}

describe('webhook fuzz: /webhook/event and /webhook/card of the real app', () => {
  it('4 400 seeded cases: no 5xx, no crash, JSON answers, nothing written on rejection, valid events accepted', async () => {
    console.log(`webhook fuzz seed ${seed} (set FUZZ_SEED to change or reproduce)`);
    const target = await createWebhookFuzzTarget();
    try {
      const stats = await runWebhookFuzz({ target, seed, numRuns: 4_400 });
      console.log(`webhook fuzz: ${JSON.stringify(stats)}`);
      expect(stats.cases).toBe(4_400);
      // Every category ran, and the run saw each kind of answer it is meant to provoke.
      for (const category of [
        'random-bytes',
        'random-json',
        'truncated',
        'mis-encrypted',
        'mis-signed',
        'oversized',
        'wrong-token',
        'nested-huge',
        'unicode',
        'positive',
        'unsigned-with-key',
        'dropped',
      ]) {
        expect(stats.byCategory[category], category).toBeGreaterThan(50);
      }
      expect(Object.keys(stats.byStatus).sort()).toEqual(['200', '400', '401', '413']);
      expect(stats.byExpectation.unauthorized).toBeGreaterThan(50);
      expect(stats.byExpectation.drop).toBeGreaterThan(50);
      // The positive controls went through: the property cannot hold by refusing everything.
      expect(stats.byExpectation['accept-event']).toBeGreaterThan(100);
      expect(stats.accepted).toBe(
        stats.byExpectation['accept-event'] + stats.byExpectation['accept-card'] + stats.byExpectation.challenge,
      );
    } finally {
      await target.close();
    }
  }, 120_000);

  it(`refuses a signed event nested deeper than ${MAX_EVENT_DEPTH} levels with a 400, not a 503 (found by this fuzz)`, async () => {
    const target = await createWebhookFuzzTarget();
    try {
      const envelope = messageEnvelope({
        eventId: 'deep',
        messageId: 'om_deep',
        token: defaultFuzzSecrets.verificationToken,
      });
      const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
      const plain = JSON.stringify({ ...envelope, event: { ...envelope.event, extra: '__DEEP__' } }).replace(
        '"__DEEP__"',
        deep,
      );
      const timestamp = String(defaultFuzzSecrets.now / 1000);
      // A string payload is encrypted as is: JSON.stringify could not even build this depth.
      const request = webhookRequest(plain, { encryptKey: defaultFuzzSecrets.encryptKey, timestamp });
      const response = await target.request('/webhook/event', { method: 'POST', ...request });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'INVALID_EVENT' });
      expect(await target.jobCount()).toBe(0);
      expect(target.storeWrites()).toBe(0);
    } finally {
      await target.close();
    }
  });

  it('without an encrypt key and without the unsigned opt-in: 401 for everything but the plain URL check', async () => {
    const target = await createWebhookFuzzTarget({ routeOptions: { encryptKey: undefined } });
    try {
      const stats = await runWebhookFuzz({ target, seed, numRuns: 400, cases: refusedWithoutKeyCases() });
      expect(stats.byExpectation.unauthorized).toBeGreaterThan(200);
      expect(stats.byExpectation.challenge).toBeGreaterThan(20);
      expect(Object.keys(stats.byStatus).sort()).toEqual(['200', '401']);
      expect(await target.jobCount()).toBe(0);
    } finally {
      await target.close();
    }
  }, 60_000);

  describe('the harness catches broken handlers (a fuzz test that cannot fail proves nothing)', () => {
    it('a route that parses JSON without guarding it → 500 → counterexample', async () => {
      const { report, violation } = await fuzzFailure(({ options }) => {
        const broken = new Hono();
        broken.use('*', async (c, next) => {
          JSON.parse(await c.req.text()); // the bug: a SyntaxError becomes createApp's 500
          await next();
        });
        broken.route('/', webhookRoutes(options));
        return broken;
      });
      expect(report).toMatch(/Property failed after \d+ tests/);
      expect(report).toContain('Counterexample');
      expect(report).toContain(`seed: ${seed}`);
      expect(violation).toMatch(/answered 500/);
    });

    it('a route that enqueues before it verifies → a rejected request wrote to the store → counterexample', async () => {
      const { report, violation } = await fuzzFailure(
        ({ inbox, options }) => {
          const broken = new Hono();
          broken.use('/event', async (c, next) => {
            // The bug: persist whatever decrypts to an event, then check signature and token.
            try {
              const body = JSON.parse(await c.req.text()) as { encrypt?: unknown };
              const decrypted =
                'encrypt' in body ? decryptEvent(body.encrypt, defaultFuzzSecrets.encryptKey) : undefined;
              const envelope = readEnvelope(
                decrypted === undefined ? body : decrypted.ok ? decrypted.value : undefined,
              );
              if (envelope.kind === 'event') await inbox.accept(toInboundEvent(envelope, 'webhook', Date.now()));
            } catch {
              // not JSON: the real route answers it
            }
            await next();
          });
          broken.route('/', webhookRoutes(options));
          return broken;
        },
        // Only inputs that must be refused, so the violation is the "nothing written" property.
        webhookFuzzCases(defaultFuzzSecrets).filter((value) => value.expect === 'reject'),
      );
      expect(report).toContain('Counterexample');
      expect(violation).toMatch(/rejected with 4\d\d but wrote [1-9]\d* store calls/);
    });

    it('a route that decrypts before it checks the signature → an unsigned body answered 400 → counterexample', async () => {
      const { violation } = await fuzzFailure(
        ({ options }) => {
          const broken = new Hono();
          broken.use('/event', async (c, next) => {
            // The bug: tell undecryptable bodies (400) apart before looking at the signature.
            const text = await c.req.text();
            try {
              const body = JSON.parse(text) as { encrypt?: unknown };
              if ('encrypt' in body && !decryptEvent(body.encrypt, defaultFuzzSecrets.encryptKey).ok) {
                return c.json({ error: 'DECRYPT_FAILED' }, 400);
              }
            } catch {
              return c.json({ error: 'INVALID_JSON' }, 400);
            }
            await next();
          });
          broken.route('/', webhookRoutes(options));
          return broken;
        },
        webhookFuzzCases(defaultFuzzSecrets).filter((value) => value.expect === 'unauthorized'),
      );
      expect(violation).toMatch(/^unsigned-with-key\/.*expected 401 whatever the body, got 400/);
    });

    it('a route that refuses everything → the positive controls fail → counterexample', async () => {
      const { report, violation } = await fuzzFailure(() => {
        const broken = new Hono();
        broken.post('*', (c) => c.json({ error: 'SIGNATURE_INVALID' }, 401));
        return broken;
      });
      expect(report).toContain('Counterexample');
      expect(violation).toMatch(/^positive\/.*expected (200|the challenge)/);
    });
  });
});
