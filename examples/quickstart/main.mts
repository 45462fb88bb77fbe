// main.mts
import { FunctionExecutor } from 'burst-compute';
import { addSeven } from './tasks.js';

const fexec = new FunctionExecutor(); // localhost backend + local file storage by default
const futures = await fexec.map(addSeven, [1, 2, 3, 4]);
console.log(await fexec.getResult(futures)); // [ 8, 9, 10, 11 ]
await fexec.close();
