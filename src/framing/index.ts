export { forEachLine, readLineBatches, readLines, type LineCallback, type ReadLinesOptions } from './read-lines.js';
export { forEachFrame, readFrameBatches, readFrames, writeFrame, type FrameCallback, type FramePrefix, type ReadFramesOptions } from './frames.js';
