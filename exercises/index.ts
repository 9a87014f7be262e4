import { usageError } from '../runner/src/errors.js';
import type { Exercise } from './define.js';
import lesson1 from './lesson-1/exercise.js';
import lesson2 from './lesson-2/exercise.js';
import lesson3 from './lesson-3/exercise.js';
import lesson4 from './lesson-4/exercise.js';
import lesson5 from './lesson-5/exercise.js';
import lesson6 from './lesson-6/exercise.js';
import lesson7 from './lesson-7/exercise.js';
import lesson8 from './lesson-8/exercise.js';
import lesson9 from './lesson-9/exercise.js';
import lesson10 from './lesson-10/exercise.js';

/** Every exercise, in lesson order. Adding one means a folder and a line here. */
export const exercises: readonly Exercise[] = [lesson1, lesson2, lesson3, lesson4, lesson5, lesson6, lesson7, lesson8, lesson9, lesson10];

export function findExercise(id: string): Exercise {
  const exercise = exercises.find((candidate) => candidate.id === id);
  if (!exercise) {
    throw usageError(`There is no exercise "${id}".`, `The exercises are: ${exercises.map((candidate) => candidate.id).join(', ')}.`);
  }
  return exercise;
}
