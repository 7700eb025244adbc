// Types for native/build-whisper.mjs (plain Node so CI can run it without tsx).
export declare const SOURCE_PACKAGE: string;
export declare const OUTPUT_DIR: string;
export declare const ENGINE_BINARY: string;
export declare function findWhisperSource(): string | null;
export declare function whisperSourceVersion(src: string): string;
export interface BuildResult {
  status: 'built' | 'up-to-date' | 'no-source';
  binary: string;
  src: string | null;
  version: string | null;
  seconds: number;
}
export declare function buildWhisperEngine(opts?: { force?: boolean; quiet?: boolean; log?: (line: string) => void }): BuildResult;
