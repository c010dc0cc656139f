import pino, { type Logger } from 'pino';

export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['password', '*.password', 'apiKey', '*.apiKey', 'accessToken', '*.accessToken', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  });
}
