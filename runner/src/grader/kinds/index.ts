import type { z } from 'zod';
import type { CheckKind } from '../types.js';
import { addsOnly } from './adds-only.js';
import { baseNamedByDigest } from './base-named-by-digest.js';
import { buildToolsAbsent } from './build-tools-absent.js';
import { computedInBuild } from './computed-in-build.js';
import { copiesContext } from './copies-context.js';
import { execForm } from './exec-form.js';
import { fileContains } from './file-contains.js';
import { filesAbsent } from './files-absent.js';
import { filesPresent } from './files-present.js';
import { fileRecoveredFromLayer } from './file-recovered-from-layer.js';
import { httpResponds } from './http-responds.js';
import { labelEquals } from './label-equals.js';
import { layerNotShipped } from './layer-not-shipped.js';
import { maxLayers } from './max-layers.js';
import { maxSize } from './max-size.js';
import { noSecret } from './no-secret.js';
import { pathNeverInLayers } from './path-never-in-layers.js';
import { pipeFailuresFailTheBuild } from './pipe-failures-fail-the-build.js';
import { portExposed } from './port-exposed.js';
import { runOutput } from './run-output.js';
import { runsAsNonRoot } from './runs-as-non-root.js';
import { sharesBaseLayers } from './shares-base-layers.js';
import { stepStaysCached } from './step-stays-cached.js';
import { sharedLibrariesResolve } from './shared-libraries-resolve.js';

/** Every check kind. Adding one means a file in this folder and a line here. */
export const checkKinds = {
  'max-size': maxSize,
  'max-layers': maxLayers,
  'build-tools-absent': buildToolsAbsent,
  'http-responds': httpResponds,
  'runs-as-non-root': runsAsNonRoot,
  'shares-base-layers': sharesBaseLayers,
  'adds-only': addsOnly,
  'file-contains': fileContains,
  'files-present': filesPresent,
  'files-absent': filesAbsent,
  'exec-form': execForm,
  'label-equals': labelEquals,
  'port-exposed': portExposed,
  'no-secret': noSecret,
  'run-output': runOutput,
  'path-never-in-layers': pathNeverInLayers,
  'layer-not-shipped': layerNotShipped,
  'pipe-failures-fail-the-build': pipeFailuresFailTheBuild,
  'shared-libraries-resolve': sharedLibrariesResolve,
  'step-stays-cached': stepStaysCached,
  'file-recovered-from-layer': fileRecoveredFromLayer,
  'computed-in-build': computedInBuild,
  'base-named-by-digest': baseNamedByDigest,
  'copies-context': copiesContext,
} satisfies Record<string, CheckKind<z.ZodTypeAny>>;

export type CheckKindName = keyof typeof checkKinds;
