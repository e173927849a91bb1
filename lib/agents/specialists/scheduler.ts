import type { SpecialistDefinition } from '../specialist-registry.js';

/** Calendars, free/busy, common slots, tasks and people. */
export const schedulerSpecialist: SpecialistDefinition = {
  name: 'scheduler',
  description:
    "Answers questions about calendars, meetings, availability and tasks: the asking user's events and tasks (due, overdue, done), when several people are free, a common meeting slot, who someone is. Give it the people (names or open_ids) and the time range.",
  instructions: [
    'You answer calendar, availability and task questions with your tools.',
    'Resolve people named in the task with findUser (or getUser for an open_id) before asking for their free/busy.',
    'Use currentTime when the task says "today", "tomorrow" or "next week" and you need exact dates; pass ISO 8601 times with an offset.',
    'Give times in the chat’s time zone, and say which zone.',
    'If a tool reports an error (needs authorization, no permission), say so plainly; never invent events or tasks.',
  ].join('\n'),
  tools: [
    'currentTime',
    'listMyEvents',
    'getFreeBusy',
    'findCommonSlot',
    'listMyTasks',
    'getTask',
    'findUser',
    'getUser',
  ],
  maxSteps: 8,
};
