import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { toTRPCError } from '../errors.js';

type IssueCode = OperationOutcomeIssue['code'];

/**
 * A refusal of a FHIR request: the HTTP status and the OperationOutcome issues it is answered with.
 * Thrown anywhere under server/fhir/; handler.ts turns it into the response.
 */
export class FhirError extends Error {
  constructor(
    public readonly status: number,
    public readonly issues: OperationOutcomeIssue[],
    public readonly headers: Record<string, string> = {},
  ) {
    super(issues[0]?.diagnostics ?? 'FHIR request refused');
    this.name = 'FhirError';
  }
}

export const issue = (code: IssueCode, diagnostics: string, expression?: string): OperationOutcomeIssue => ({
  severity: 'error',
  code,
  diagnostics,
  details: { text: diagnostics },
  ...(expression ? { expression: [expression] } : {}),
});

export const fhirError = (status: number, code: IssueCode, diagnostics: string, expression?: string) => new FhirError(status, [issue(code, diagnostics, expression)]);
export const invalid = (diagnostics: string, expression?: string) => fhirError(400, 'invalid', diagnostics, expression);
export const notFoundOutcome = (diagnostics: string, expression?: string) => fhirError(404, 'not-found', diagnostics, expression);

export const outcome = (issues: OperationOutcomeIssue[]): OperationOutcome => ({ resourceType: 'OperationOutcome', issue: issues });

const CODE_OF_STATUS: Record<number, IssueCode> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  405: 'not-supported',
  409: 'conflict',
  413: 'too-long',
  415: 'not-supported',
  422: 'business-rule',
  429: 'throttled',
  503: 'transient',
};

/**
 * Anything the shared services throw (AppError, TRPCError from idempotency.ts, a Postgres constraint)
 * goes through the app's one mapping (errors.ts) and comes out as an OperationOutcome with the HTTP
 * status REST would answer. Only a real fault stays a 500, without its details.
 */
export function toFhirError(err: unknown): FhirError {
  if (err instanceof FhirError) return err;
  const t = toTRPCError(err);
  const status = getHTTPStatusCodeFromError(t);
  if (status >= 500 && status !== 503) return fhirError(500, 'exception', 'Internal error');
  return fhirError(status, CODE_OF_STATUS[status] ?? 'processing', t.message);
}
