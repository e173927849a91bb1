/**
 * Amounts of US dollars as integers, so budgets and spend add up without float drift: what a
 * person types is read as whole cents, what the ledger sums is millionths of a dollar (micros).
 */

/** Micros in one cent. */
export const CENT_MICROS = 10_000;
/** The largest budget a chat may set: one million dollars a day, in cents. */
export const MAX_BUDGET_CENTS = 100_000_000;

const AMOUNT = /^(?:us)?\$?\s*(\d{1,7})(?:\.(\d{1,2}))?\s*(?:usd|\$)?$/i;

/**
 * Whole cents of an amount as a person writes it (`2`, `2.5`, `$2.50`, `2.50 USD`); undefined for
 * anything else (a third decimal, a sign, a word). Read from the digits, never through a float.
 *
 * @example
 * parseUsdCents('$2.5'); // 250
 * parseUsdCents('0.333'); // undefined
 */
export function parseUsdCents(text: string): number | undefined {
  const match = AMOUNT.exec(text.trim());
  if (match === null) return undefined;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return cents <= MAX_BUDGET_CENTS ? cents : undefined;
}

/**
 * Micros of a configured amount in dollars (DAILY_BUDGET_USD_PER_CHAT is read as a number):
 * rounded once to the nearest micro.
 *
 * @example
 * usdToMicros(0.1); // 100_000
 */
export function usdToMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

/**
 * An amount of micros as dollars with cents (`$2.50`), with more decimals only when the amount
 * is not whole cents (`$0.0045`), built from the integer so nothing is rounded away.
 *
 * @example
 * formatUsd(2_500_000); // '$2.50'
 * formatUsd(4_500); // '$0.0045'
 */
export function formatUsd(micros: number): string {
  const whole = Math.round(micros);
  const sign = whole < 0 ? '-' : '';
  const digits = String(Math.abs(whole)).padStart(7, '0');
  const dollars = digits.slice(0, -6);
  const fraction = digits.slice(-6).replace(/0+$/, '').padEnd(2, '0');
  return `${sign}$${dollars}.${fraction}`;
}
