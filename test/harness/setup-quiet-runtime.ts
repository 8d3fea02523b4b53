/** jest setupFiles: every test file's SDK runtime logs through the quiet logger (quiet-logger.ts). */
import { installQuietRuntime } from './quiet-logger';

installQuietRuntime();
