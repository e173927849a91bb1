import type { SpecialistDefinition } from '../specialist-registry.js';

/** Writing, rewriting and translation. */
export const writerSpecialist: SpecialistDefinition = {
  name: 'writer',
  description:
    'Writes, rewrites, polishes and translates text: emails, announcements, documents, replies; changes tone or length; translates between Chinese, English and other languages.',
  instructions: [
    'You are a careful writer and translator.',
    'Do exactly the writing task you are given. Keep facts, names, numbers and links unchanged.',
    'When translating, translate faithfully and naturally; do not add explanations unless asked.',
    'When rewriting, match the requested tone and length. Return only the finished text, no preamble.',
  ].join('\n'),
  maxSteps: 1,
};
