// Burst, as a user runs it: import the built package, map the kernel over the inputs, exit.
import './timeline-hook.mjs';
import { FunctionExecutor } from 'burst-compute';
import { inputs, kernel, report } from './common.mjs';

const fexec = new FunctionExecutor({ progress: false });
try {
  report(await fexec.getResult(await fexec.map(kernel, inputs())));
} finally {
  await fexec.close();
}
