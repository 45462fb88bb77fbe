import { FunctionExecutor } from 'burst';
import type { CallContext } from 'burst';
export async function probe(uri: string, ctx: CallContext) {
  const b = await ctx.storage.get(uri);
  await ctx.storage.put(uri + '.copy', b);
  return b.length;
}
const fexec = new FunctionExecutor();
const fs = await fexec.map(probe, ['fs://burst-examples/faces-6/0000-sample1.jpg']);
const r = await fexec.getResult(fs, { throwOnError: false });
console.log(r, (r[0] as any)?.remoteStack);
await fexec.close();
