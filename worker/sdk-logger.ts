import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * The SDK's logger at WARN, less one warning that is not a problem here: the Graph queue's worker is
 * activities-only by design (worker/worker.ts), so "No workflows registered" at every start is noise.
 */
export class ServiceSdkLogger extends DefaultLogger {
  constructor() {
    super('WARN');
  }

  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message.startsWith('No workflows registered')) return;
    super.log(level, message, meta);
  }
}
