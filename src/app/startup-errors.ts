/**
 * Why the gateway could not start, in the words of the configuration errors: one line naming the
 * variable to change, instead of a stack trace. Undefined for anything else (a real fault).
 */
export function startupProblem(error: unknown, where: { port: number; host: string }): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, syscall } = error as NodeJS.ErrnoException;
  const { port, host } = where;
  if (syscall === 'listen' && code === 'EADDRINUSE') {
    return `PORT: ${port} is already in use on ${host} (another gateway running?); stop it or choose another PORT (0 picks a free one)`;
  }
  if (syscall === 'listen' && code === 'EACCES') {
    return `PORT: ${port} needs privileges this process lacks; choose a PORT above 1023`;
  }
  if (syscall === 'listen' && code === 'EADDRNOTAVAIL') {
    return `HOST: "${host}" is not an address of this machine; use 127.0.0.1, 0.0.0.0 (every interface) or one of its addresses`;
  }
  if (syscall === 'getaddrinfo' && (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME')) {
    return `HOST: "${host}" cannot be resolved to an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its addresses`;
  }
  return undefined;
}
