/** The world frame: every scene coordinate is in a W x W box, whatever the output size. */
export const W = 64;
/** Default output size in pixels (square). */
export const DEFAULT_IMAGE_SIZE = 64;
