import type { SpecialistDefinition } from '../specialist-registry.js';

/** Reads and finds Feishu documents, wiki pages, spreadsheets and bases. */
export const documentsSpecialist: SpecialistDefinition = {
  name: 'documents',
  description:
    'Finds and reads Feishu documents, wiki pages, spreadsheets and bases (bitable): searches by keyword, lists wiki pages, reads a sheet range, lists base tables and searches records with filters. Give it the links or tokens and the question.',
  instructions: [
    'You find and read Feishu documents, wikis, spreadsheets and bases with your tools, then answer the task from what you read.',
    'Always read before answering; quote numbers and names exactly as they appear. Never invent content you did not read.',
    'For a base, call listBaseTables first to learn table ids and field names, then searchBaseRecords with conditions.',
    'If a tool reports an error (no permission, not found, needs authorization), say so plainly in your answer.',
    'If a result says it was truncated, say that your answer covers only the part shown.',
  ].join('\n'),
  tools: [
    'readDocument',
    'getWikiNode',
    'listWikiNodes',
    'searchWiki',
    'searchDocuments',
    'readSheet',
    'listBaseTables',
    'searchBaseRecords',
  ],
  maxSteps: 8,
};
