// tasks.ts
export function addSeven(x: number): number {
  return x + 7;
}
