// Burst with worker processes instead of the default worker threads (localhost isolation: 'process').
import './timeline-hook.mjs';
import { FunctionExecutor } from 'burst-compute';
import { inputs, kernel, report } from './common.mjs';

const fexec = new FunctionExecutor({ progress: false, localhost: { isolation: 'process' } });
try {
  report(await fexec.getResult(await fexec.map(kernel, inputs())));
} finally {
  await fexec.close();
}
