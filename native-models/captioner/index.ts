export { openCaptioner } from './open.ts';
export type { Captioner, CaptionOptions, CaptionResult, OpenCaptionerOptions } from './open.ts';
export { CaptionerLayoutError, captionerPreprocess, readCaptionerLayout } from './layout.ts';
export type { CaptionerFiles, CaptionerLayout } from './layout.ts';
export { ByteLevelBpeDecoder, checkMergesFile, cleanUpTokenizationSpaces, specialTokenStrings, TokenizerFileError } from './bpe-decoder.ts';
export type { ByteLevelDecodeOptions, ByteLevelSources } from './bpe-decoder.ts';
export { PreprocessorConfigError, specFromPreprocessorConfig } from './preprocessor.ts';
export type { PreprocessorResult } from './preprocessor.ts';
