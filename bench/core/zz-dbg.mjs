import k from './kernels.cjs';
const { packageFunction } = await import('/work/wt/speed/dist/packaging/index.js');
const bc = await import('/work/wt/speed/dist/packaging/bundle-cache.js');
const orig = bc.writeCachedBundle;
const b = await packageFunction(k.addSeven);
console.log(b.description, b.hash);
