/**
 * Whether a driver error is a unique-constraint violation (PostgreSQL 23505, SQLite UNIQUE).
 *
 * @example if (isUniqueViolation(error)) throw new AuthError('email_taken');
 */
export function isUniqueViolation(error: unknown): boolean {
  const { code, driverError } = error as { code?: string; driverError?: { code?: string } };
  const driverCode = driverError?.code ?? code;
  return (
    driverCode === '23505' || driverCode === 'SQLITE_CONSTRAINT_UNIQUE' || driverCode === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000',
  '08003',
  '08006',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
]);

/**
 * Whether an error means the database cannot be reached (answered 503), as opposed to a bug.
 *
 * @example if (isDatabaseUnavailable(error)) status = 503;
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, driverError, message } = error as { code?: string; driverError?: { code?: string }; message?: string };
  if (UNAVAILABLE_CODES.has(driverError?.code ?? '') || UNAVAILABLE_CODES.has(code ?? '')) return true;
  return /connection terminated|timeout exceeded when trying to connect|connection refused|Connection is not established|the database system is (shutting down|starting up)|Client has encountered a connection error/i.test(
    message ?? '',
  );
}
