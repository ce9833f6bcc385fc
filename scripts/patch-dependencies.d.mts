// Types for scripts/patch-dependencies.mjs (plain JavaScript: it runs at install, before tsx exists).
export interface Patch {
  id: string;
  pkg: string;
  version: string;
  file: string;
  why: string;
  find: string;
  replace: string;
}
export declare const PATCHES: Patch[];
export declare function applyPatches(root: string, patches?: Patch[]): string[];
