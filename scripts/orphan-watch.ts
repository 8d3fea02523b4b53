/**
 * Calls `onOrphaned` once our parent process has gone. `npm start` needs it: npm forwards SIGTERM
 * to its child, but a SIGKILL of npm (or of any launcher) forwards nothing, and the app would run on,
 * holding its ports, with nobody to stop it. When the parent dies the kernel hands us to init (or a
 * subreaper), so the parent pid changes; reading it costs one syscall per check.
 */
export function watchForOrphaning(onOrphaned: () => void, everyMs = 500): void {
  const parent = process.ppid;
  // Already adopted by init (a container's entry point, a daemon): nothing to watch.
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, everyMs);
  timer.unref();
}
