/** What every redaction in the service writes in place of a secret: one spelling everywhere. */
export const REDACTED = '[Redacted]';

/** Configured secrets shorter than this are not matched verbatim (they would hit ordinary words). */
const MIN_SECRET_LENGTH = 4;

/**
 * Shapes that are credentials whatever their value, for text that may carry one nobody
 * configured (a provider's error echoing a key, a user pasting a token, a URL with `?token=`):
 * bearer tokens, OpenAI-style `sk-…` keys, Feishu tenant/app/user access tokens (`t-`, `a-`,
 * `u-` followed by a long opaque id), and `key=value` / `"key": "value"` pairs whose key names a
 * secret.
 */
const CREDENTIAL_SHAPES: readonly [RegExp, string][] = [
  [/\b(bearer\s+)[A-Za-z0-9._~+/-]+=*/gi, `$1${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b[tau]-[A-Za-z0-9_-]{20,}/g, REDACTED],
  [
    /\b((?:api[_-]?key|access[_-]?token|refresh[_-]?token|app[_-]?secret|encrypt[_-]?key|client[_-]?secret|token|secret|password|authorization)["']?\s*[:=]\s*["']?)[^\s"',;&}]+/gi,
    `$1${REDACTED}`,
  ],
];

/**
 * Matches wherever any credential shape could (case-insensitively, so a superset): text without a
 * hit skips the replacements. Most text has no secret, and a replacement with a `$1` template
 * costs about ten times a plain search even when nothing matches; the devtools tracker redacts
 * every string field of every bus event.
 */
const ANY_CREDENTIAL_SHAPE = new RegExp(CREDENTIAL_SHAPES.map(([pattern]) => pattern.source).join('|'), 'i');

/** Replaces secrets in one piece of text. */
export type Redactor = (text: string) => string;

/**
 * Builds the one redactor every output of the service uses (log lines, health `lastError`,
 * devtools events, error messages shown to users): each configured secret verbatim, then every
 * credential shape above, so also tokens nobody configured (a user's own authorization).
 * The secrets are deduplicated and matched longest first, so a secret containing another is
 * removed whole.
 *
 * @example
 * const redact = createRedactor(config.secrets);
 * redact('401 for sk-abcdefghijklmnop'); // '401 for [Redacted]'
 */
export function createRedactor(secrets: readonly string[] = []): Redactor {
  const needles = [...new Set(secrets.filter((secret) => secret.length >= MIN_SECRET_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
  return (text) => {
    let result = text;
    for (const needle of needles) {
      if (result.includes(needle)) result = result.split(needle).join(REDACTED);
    }
    if (!ANY_CREDENTIAL_SHAPE.test(result)) return result;
    for (const [pattern, replacement] of CREDENTIAL_SHAPES) result = result.replace(pattern, replacement);
    return result;
  };
}
