import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errorMessage } from '../util/error-message.js';
import { documentsSpecialist } from './specialists/documents.js';
import { schedulerSpecialist } from './specialists/scheduler.js';
import { summarizerSpecialist } from './specialists/summarizer.js';
import { writerSpecialist } from './specialists/writer.js';
import type { ToolRegistry } from './tools/tool-registry.js';

/**
 * A specialist agent the manager can delegate to. Plain data, so operators can add their own in
 * a JSON file (SPECIALISTS_FILE) without code; see docs/agents.md.
 */
export interface SpecialistDefinition {
  /** Also the manager's tool name: lower case, digits, `_` or `-`. */
  name: string;
  /** Tells the manager when to delegate: say what it is for. */
  description: string;
  /** Its system prompt; date and chat context are appended per call. */
  instructions: string;
  /** A model id of its own, tried before the primary (then the usual fallbacks). */
  model?: string;
  /** Names from the tool registry, e.g. `readChatHistory` (docs/tools.md). */
  tools?: readonly string[];
  /** Tool-loop steps at most (default: AGENT_MAX_STEPS). */
  maxSteps?: number;
}

export interface SpecialistRegistry {
  list(): readonly SpecialistDefinition[];
  get(name: string): SpecialistDefinition | undefined;
}

const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,39}$/;

const specialistSchema = z
  .object({
    name: z
      .string()
      .regex(NAME_PATTERN, 'must start with a lower-case letter and use only a-z, 0-9, _ or - (at most 40)'),
    description: z.string().trim().min(10, 'must say when to use it (at least 10 characters)').max(1_000),
    instructions: z.string().trim().min(1, 'must not be empty').max(20_000),
    model: z.string().trim().min(1).max(200).optional(),
    tools: z.array(z.string().min(1)).max(20).optional(),
    maxSteps: z.number().int().min(1).max(20).optional(),
  })
  .strict();

const specialistsFileSchema = z
  .object({
    specialists: z.array(specialistSchema).max(50, 'at most 50 specialists'),
  })
  .strict();

/** A specialists file that cannot be used; the message names the file and every bad field. */
export class SpecialistsFileError extends Error {
  readonly code = 'SPECIALISTS_FILE_INVALID';
  readonly path: string;
  readonly problems: string[];
  constructor(path: string, problems: string[]) {
    super(`Invalid specialists file ${path}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'SpecialistsFileError';
    this.path = path;
    this.problems = problems;
  }
}

/** The specialists that ship with the bot. */
export function builtInSpecialists(): SpecialistDefinition[] {
  return [summarizerSpecialist, writerSpecialist, documentsSpecialist, schedulerSpecialist];
}

/**
 * Parses specialist definitions from JSON text (`{ "specialists": [...] }`), checking every field
 * and that each tool exists in the registry. Throws one SpecialistsFileError listing every problem.
 */
export function parseSpecialists(json: string, { path, tools }: { path: string; tools: ToolRegistry }) {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new SpecialistsFileError(path, [`not valid JSON: ${errorMessage(error)}`]);
  }
  const parsed = specialistsFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SpecialistsFileError(
      path,
      parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(top level)'}: ${issue.message}`),
    );
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  parsed.data.specialists.forEach((specialist, index) => {
    if (seen.has(specialist.name)) problems.push(`specialists[${index}].name: "${specialist.name}" is defined twice`);
    seen.add(specialist.name);
    (specialist.tools ?? []).forEach((toolName, toolIndex) => {
      if (!tools.has(toolName)) {
        problems.push(
          `specialists[${index}].tools[${toolIndex}]: unknown tool "${toolName}" (available: ${tools.names().join(', ')})`,
        );
      }
    });
  });
  if (problems.length > 0) throw new SpecialistsFileError(path, problems);
  return parsed.data.specialists as SpecialistDefinition[];
}

/** Reads and validates SPECIALISTS_FILE. */
export async function loadSpecialistsFile(path: string, { tools }: { tools: ToolRegistry }) {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as { code?: unknown }).code === 'ENOENT' ? 'file not found' : String(error);
    throw new SpecialistsFileError(path, [reason]);
  }
  return parseSpecialists(text, { path, tools });
}

/**
 * The registry: built-ins, then the operator's file. An operator entry with a built-in's name
 * replaces it (so a built-in can be re-tuned without code).
 *
 * @example
 * const registry = createSpecialistRegistry([...builtInSpecialists(), ...await loadSpecialistsFile(path, { tools: defaultToolRegistry() })]);
 */
export function createSpecialistRegistry(definitions: readonly SpecialistDefinition[]): SpecialistRegistry {
  const byName = new Map<string, SpecialistDefinition>();
  for (const definition of definitions) {
    if (!NAME_PATTERN.test(definition.name)) throw new Error(`Invalid specialist name "${definition.name}"`);
    byName.set(definition.name, definition);
  }
  const list = [...byName.values()];
  return { list: () => list, get: (name) => byName.get(name) };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text === '' ? String(key) : `${text}.${String(key)}`;
  }, '');
}
