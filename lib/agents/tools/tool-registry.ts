import type { AnyToolDefinition } from './tool-definition.js';

/** The tools agents can be given, by name. Specialists (also those in SPECIALISTS_FILE) pick from it. */
export interface ToolRegistry {
  get(name: string): AnyToolDefinition | undefined;
  has(name: string): boolean;
  /** Every name, in registration order. */
  names(): string[];
  list(): readonly AnyToolDefinition[];
}

/** OpenAI function names: letters, digits, `_` and `-`, at most 64; we keep to camelCase. */
const TOOL_NAME = /^[a-z][a-zA-Z0-9]{0,63}$/;

/** A tool set that cannot be used: duplicate or malformed names, or a write tool without approval. */
export class ToolRegistryError extends Error {
  readonly code = 'TOOL_REGISTRY_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ToolRegistryError';
  }
}

/**
 * The registry of tool definitions. Names must be unique and camelCase. A write tool must ask the
 * person before acting (`approval.describe`, the AI SDK's `needsApproval`), unless it says why it
 * needs no approval (`withoutApproval`): it only changes the bot's own state for the chat, visibly
 * and undoably.
 *
 * @example
 * const registry = createToolRegistry([currentTimeTool, readDocumentTool]);
 * registry.has('readDocument'); // true
 */
export function createToolRegistry(definitions: readonly AnyToolDefinition[]): ToolRegistry {
  const byName = new Map<string, AnyToolDefinition>();
  for (const definition of definitions) {
    if (!TOOL_NAME.test(definition.name)) {
      throw new ToolRegistryError(`Invalid tool name "${definition.name}": use camelCase letters and digits`);
    }
    if (byName.has(definition.name)) throw new ToolRegistryError(`Tool "${definition.name}" is registered twice`);
    if (definition.access === 'write' && !definition.withoutApproval && definition.approval === undefined) {
      throw new ToolRegistryError(
        `Tool "${definition.name}" writes: give it an approval summary (approval.describe) so the person can approve the change`,
      );
    }
    byName.set(definition.name, definition);
  }
  const list = [...byName.values()];
  return {
    get: (name) => byName.get(name),
    has: (name) => byName.has(name),
    names: () => [...byName.keys()],
    list: () => list,
  };
}
