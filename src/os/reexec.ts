/**
 * Runs this process's command again, in place, with another environment:
 * process.execve (execve(2), Node >= 22.15) keeps the pid, so whoever started it (a
 * shell, a supervisor, a test) still holds it and its signals still reach it.
 * Nothing of this process survives but stdin, stdout and stderr: call it before
 * anything is opened, locked or listened on.
 */

/** Does not return when it re-executes; false when this Node has no process.execve. */
export function reexecWith(env: NodeJS.ProcessEnv): boolean {
  if (typeof process.execve !== 'function') return false;
  return process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env);
}
