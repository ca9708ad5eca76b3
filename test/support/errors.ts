import { TRPCClientError } from '@trpc/client';

export interface TrpcErrorInfo {
  code: string;
  message: string;
  fieldErrors: Record<string, string[]> | null;
}

/** Awaits a call that must fail and returns its tRPC code, message and field errors. */
export async function trpcError(call: Promise<unknown>): Promise<TrpcErrorInfo> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof TRPCClientError)) throw err;
    const data = err.data as { code: string; fieldErrors?: Record<string, string[]> | null };
    return { code: data.code, message: err.message, fieldErrors: data.fieldErrors ?? null };
  }
  throw new Error('expected the call to fail');
}

/** 'OK' when the call succeeds, else its tRPC error code: for tables of calls that must be refused. */
export async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (err) {
    return (err as { data?: { code?: string } }).data?.code ?? String(err);
  }
}
