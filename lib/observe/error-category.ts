/** Stable error categories: health counts, metrics labels and devtools filters use these names. */
export const ERROR_CATEGORIES = [
  'RATE_LIMIT',
  'TIMEOUT',
  'NETWORK',
  'AUTH',
  'CONTEXT_LENGTH',
  'CONTENT_FILTER',
  'OTHER',
] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];
