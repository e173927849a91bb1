/** Stable error categories: health counts, metrics labels and devtools filters use these names. */
export const ERROR_CATEGORIES = [
  'RATE_LIMIT',
  'TIMEOUT',
  'NETWORK',
  'AUTH',
  'CONTEXT_LENGTH',
  'CONTENT_FILTER',
  /** Not sent: every model's circuit breaker was open (the model chain refused without a request). */
  'CIRCUIT_OPEN',
  'OTHER',
] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];
