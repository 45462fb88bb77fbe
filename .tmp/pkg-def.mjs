import * as esbuild from 'esbuild';
const src = `const s = "import.meta.url"; // import.meta.url
const t = \`x \${import.meta.url} import.meta.dirname\`; let a: number = 1;
console.log(import.meta.url, import.meta.dirname, import.meta.filename, __dirname, import.meta.resolve);
function f(){ const __dirname = 3; return __dirname }
`;
const r = await esbuild.transform(src, { loader: 'ts', format: 'esm', define: { 'import.meta.url': '"U"', 'import.meta.dirname': '"D"', 'import.meta.filename': '"F"', __dirname: '"DD"', __filename: '"FF"' }, sourcemap: 'inline', sourcefile: '/x/a.ts' });
console.log(r.code.split('//# source')[0], r.warnings);
