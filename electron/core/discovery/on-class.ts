// Which generated images count: those in which CLIP ranks the prompted class within the session's
// filterRank (0: every classified image). Images of something else say nothing about the model.
export function onClassSql(filterRank: number): string {
  return filterRank > 0 ? `(clip_rank IS NOT NULL AND clip_rank < ${Math.floor(filterRank)})` : `(clip_rank IS NOT NULL)`;
}
