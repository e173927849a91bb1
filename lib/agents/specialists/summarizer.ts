import type { SpecialistDefinition } from '../specialist-registry.js';

/** Summarises the current thread or chat, reading it from Feishu itself. */
export const summarizerSpecialist: SpecialistDefinition = {
  name: 'summarizer',
  description:
    'Summarises the current Feishu conversation (this thread, or the whole chat) by reading its history. Use it when someone asks what was discussed, for a recap, decisions, or open questions.',
  instructions: [
    'You summarise Feishu conversations.',
    'Always call readChatHistory first; never invent messages you did not read.',
    'Write a short summary: the main topics, decisions made, open questions, and who owns which next step.',
    'Use bullet points. Keep names as they appear. Answer in the language of the task.',
    'If the history is empty or unavailable, say so plainly.',
  ].join('\n'),
  tools: ['readChatHistory'],
  maxSteps: 4,
};
