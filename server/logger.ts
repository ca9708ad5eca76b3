import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear, so a careless `log.info({ input })`
 * can never write a password, token or TOTP secret.
 */
export const redactedPaths = [
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'totp',
  'secret',
  'backupCodes',
  'authorization',
  'cookie',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.totp',
  '*.secret',
  '*.backupCodes',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'input.*.password',
  'connectionParams.token',
];

/** Keys whose values are the statement's parameters or a copy of them (pg repeats values in `detail`). */
const PARAMETER_KEYS = new Set(['params', 'parameters', 'values', 'detail']);
// drizzle: `Failed query: <sql>\nparams: <values>`; the values run to the end of the message (or stack frames).
const DRIZZLE_PARAMS = /\nparams: [\s\S]*?(?=\n {4}at |$)/;
// Postgres data exceptions (class 22: bad cast, out of range…) quote the offending value in the message.
const QUOTED_VALUE = /"(?:[^"\\]|\\.)*"/g;

function scrubText(text: unknown, dataException: boolean): unknown {
  if (typeof text !== 'string') return text;
  const out = text.replace(DRIZZLE_PARAMS, '\nparams: [redacted]');
  return dataException ? out.replace(QUOTED_VALUE, '"[redacted]"') : out;
}

/**
 * A copy of an error (and its causes) without SQL parameter values: drizzle's DrizzleQueryError carries
 * them in `params` and in its message, pg's DatabaseError in `detail` ("Key (email)=(…)", "Failing row
 * contains (…)", password hash included) and, for data exceptions, in the message. The statement's text,
 * codes, constraint and table stay: enough to find the bug, nothing about the patient.
 */
export function scrubError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 8) return err;
  const source = err as Error & Record<string, unknown>;
  const dataException = typeof source.code === 'string' && source.code.startsWith('22');
  const copy = Object.create(Object.getPrototypeOf(err)) as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const value = source[key];
    copy[key] = PARAMETER_KEYS.has(key) && value !== undefined ? '[redacted]' : value instanceof Error ? scrubError(value, depth + 1) : value;
  }
  copy.message = scrubText(err.message, dataException);
  copy.stack = scrubText(err.stack, dataException);
  if (err.cause !== undefined) Object.defineProperty(copy, 'cause', { value: scrubError(err.cause, depth + 1), enumerable: false, configurable: true, writable: true });
  if (Array.isArray(source.errors)) copy.errors = source.errors.map((e) => scrubError(e, depth + 1));
  return copy;
}

// Many call sites log \`{ err: err.message }\`: the same scrub for a bare message (a data exception's is recognised by its wording).
const DATA_EXCEPTION_TEXT = /invalid input|out of range|value too long|invalid byte sequence/i;
const errorSerializer = (err: unknown) =>
  typeof err === 'string' ? scrubText(err, DATA_EXCEPTION_TEXT.test(err)) : pino.stdSerializers.err(scrubError(err) as Error);

export function createLogger(config: Pick<Config, 'profile' | 'logLevel'>, destination?: pino.DestinationStream): Logger {
  // Development terminals get readable lines; CLARION_LOG_PRETTY=1 asks for them on a pipe (npm start
  // relays its children's output), =0 keeps JSON everywhere.
  const wanted = process.env.CLARION_LOG_PRETTY;
  const pretty = config.profile === 'development' && !destination && wanted !== '0' && (process.stdout.isTTY || wanted === '1');
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'clarion' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    // The one place errors become log fields: \`log.error(err)\`, \`{ err }\`, \`{ error }\`, \`{ cause }\`.
    serializers: { err: errorSerializer, error: errorSerializer, cause: errorSerializer },
    hooks: {
      // \`log.error(err)\` also turns the error's message into the line's msg, before any serializer runs.
      logMethod(args, method) {
        if (args[0] instanceof Error) args[0] = scrubError(args[0]) as Error;
        return method.apply(this, args);
      },
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const noop = () => undefined;

/**
 * `parent.child(bindings)`, made only when a line is actually written: a call over a WebSocket (or an
 * HTTP request) whose handler logs nothing costs no pino child, while any line it does write still
 * carries the bindings. A disabled level stays a no-op without making one.
 */
export function lazyChild(parent: Logger, bindings: pino.Bindings): Logger {
  let child: Logger | undefined;
  const real = () => {
    child ??= parent.child(bindings);
    return child;
  };
  return new Proxy(parent, {
    get(_target, prop) {
      if (!child && typeof prop === 'string' && LEVELS.has(prop) && !parent.isLevelEnabled(prop)) return noop;
      const c = real();
      const value = Reflect.get(c, prop, c);
      return typeof value === 'function' ? value.bind(c) : value;
    },
    set: (_target, prop, value) => Reflect.set(real(), prop, value),
  });
}
