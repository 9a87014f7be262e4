import type { z } from 'zod';
import type { CheckKind } from '../types.js';
import { buildToolsAbsent } from './build-tools-absent.js';
import { httpResponds } from './http-responds.js';
import { maxLayers } from './max-layers.js';
import { maxSize } from './max-size.js';
import { runsAsNonRoot } from './runs-as-non-root.js';

/** Every check kind. Adding one means a file in this folder and a line here. */
export const checkKinds = {
  'max-size': maxSize,
  'max-layers': maxLayers,
  'build-tools-absent': buildToolsAbsent,
  'http-responds': httpResponds,
  'runs-as-non-root': runsAsNonRoot,
} satisfies Record<string, CheckKind<z.ZodTypeAny>>;

export type CheckKindName = keyof typeof checkKinds;
