// ThreadScheduler tasks of the soak's death episodes: the victim's end arrives revived in the arguments.
import type { SharedPipeReader, SharedPipeWriter } from 'threadpipe';
import { EpisodeMemory, runVictim, type DeathPlan } from './soak-death.js';

export function victim(args: { end: SharedPipeReader | SharedPipeWriter; plan: DeathPlan; sab: SharedArrayBuffer }): Promise<never> {
  return runVictim(args.end, args.plan, new EpisodeMemory(args.sab));
}
