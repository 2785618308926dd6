export { readLines, type ReadLinesOptions } from './read-lines.js';
export { readFrames, writeFrame, type FramePrefix, type ReadFramesOptions } from './frames.js';
