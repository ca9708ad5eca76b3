import { TRPCError } from '@trpc/server';

/** The one application error type. Services throw it; trpc.ts maps it (and database errors) to tRPC codes. */
export type AppErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'TOO_MANY_REQUESTS'
  | 'PAYLOAD_TOO_LARGE'
  | 'SERVICE_UNAVAILABLE';

export class AppError extends Error {
  constructor(
    public readonly code: AppErrorCode,
    message: string,
    public readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** Missing and other-hospital records look the same: never reveal that a record exists. */
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (message = 'Your role may not do this') => new AppError('FORBIDDEN', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const badRequest = (message: string, fieldErrors?: Record<string, string[]>) => new AppError('BAD_REQUEST', message, fieldErrors);

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
}

// Postgres constraint failures caused by client input are the client's error, not a 500.
const pgCodeMap: Record<string, { code: AppErrorCode; message: string }> = {
  '23505': { code: 'CONFLICT', message: 'A record with these values already exists' },
  '23503': { code: 'BAD_REQUEST', message: 'A referenced record does not exist' },
  '23514': { code: 'BAD_REQUEST', message: 'The values break a rule of the data model' },
  '23502': { code: 'BAD_REQUEST', message: 'A required value is missing' },
  '22P02': { code: 'BAD_REQUEST', message: 'A value has the wrong format' },
  '22001': { code: 'BAD_REQUEST', message: 'A value is too long' },
  '22003': { code: 'BAD_REQUEST', message: 'A number is out of range' },
  '22007': { code: 'BAD_REQUEST', message: 'A date or time is malformed' },
  '22008': { code: 'BAD_REQUEST', message: 'A date or time is out of range' },
  '22021': { code: 'BAD_REQUEST', message: 'Text contains bytes that are not valid UTF-8' },
  '54000': { code: 'BAD_REQUEST', message: 'A value is too large' },
};

function pgErrorOf(err: unknown): PgError | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as PgError).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return e as PgError;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

// The database is unreachable or restarting (connection exceptions, shutdown, too many connections, a
// pool that cannot connect): a temporary condition of the server, answered 503 so clients retry. So is a
// deadlock or serialization failure that survived the transaction helper's one retry (db/client.ts).
const UNAVAILABLE_PG = /^(08...|57P0[123]|53300|40P01|40001)$/;
const UNAVAILABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

function isUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_PG.test(code) || UNAVAILABLE_NODE.has(code))) return true;
    if (e instanceof Error && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const unavailable = (err: unknown) =>
  new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'Temporarily unavailable; try again shortly', cause: err instanceof Error ? err : undefined });

/** Maps anything thrown by a procedure to a TRPCError; unknown errors stay INTERNAL_SERVER_ERROR. */
export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError) {
    if (err.cause instanceof AppError) return toTRPCError(err.cause);
    if (err.code === 'INTERNAL_SERVER_ERROR' && isUnavailable(err.cause)) return unavailable(err.cause);
    const pg = pgErrorOf(err.cause);
    if (err.code === 'INTERNAL_SERVER_ERROR' && pg) return toTRPCError(pg);
    return err;
  }
  if (err instanceof AppError) return new TRPCError({ code: err.code, message: err.message, cause: err });
  const pg = pgErrorOf(err);
  const mapped = pg?.code ? pgCodeMap[pg.code] : undefined;
  if (mapped) return new TRPCError({ code: mapped.code, message: mapped.message, cause: err instanceof Error ? err : undefined });
  if (isUnavailable(err)) return unavailable(err);
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal error', cause: err instanceof Error ? err : undefined });
}
