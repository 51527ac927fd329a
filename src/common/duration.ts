const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Parses a duration given as whole seconds (`900`) or with a unit suffix (`15m`, `14d`) into seconds.
 * Returns `undefined` for anything else, including negatives and fractions.
 *
 * @example parseDuration('15m') // 900
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * (match[2] ? UNIT_SECONDS[match[2]]! : 1);
  return Number.isSafeInteger(value) ? value : undefined;
}
