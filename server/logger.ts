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

export function createLogger(config: Pick<Config, 'profile' | 'logLevel'>, destination?: pino.DestinationStream): Logger {
  const pretty = config.profile === 'development' && !destination && (process.stdout.isTTY || process.env.CLARION_LOG_PRETTY === '1');
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'clarion' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}
