import { cpus, totalmem, type as osType, release } from 'node:os';

export function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  return `${model}, ${cores.length} cores, ${gib} GiB memory, ${osType()} ${release()}, Node ${process.version}`;
}
