import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { toTRPCError } from '../../server/errors.js';

// A database outage is the server's temporary condition: 503 SERVICE_UNAVAILABLE (clients retry),
// not 500. Found by the Postgres-restart fault scenario (npm run fault -- restart-postgres).
describe('database outages map to SERVICE_UNAVAILABLE', () => {
  const pgError = (code: string) => Object.assign(new Error('db'), { code });
  it.each([
    ['admin shutdown', pgError('57P01')],
    ['cannot connect now (starting up)', pgError('57P03')],
    ['connection failure', pgError('08006')],
    ['too many connections', pgError('53300')],
    ['refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['terminated', new Error('Connection terminated unexpectedly')],
    ['pool timeout', new Error('timeout exceeded when trying to connect')],
    ['wrapped by tRPC', new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new Error('Connection terminated unexpectedly') })],
  ])('%s', (_name, err) => {
    expect(toTRPCError(err).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('other errors keep their mapping', () => {
    expect(toTRPCError(pgError('23505')).code).toBe('CONFLICT');
    expect(toTRPCError(new Error('boom')).code).toBe('INTERNAL_SERVER_ERROR');
  });
});
