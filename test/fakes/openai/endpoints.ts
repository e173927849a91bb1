/**
 * Every endpoint the fake OpenAI serves; `startFakeOpenAI` installs them all. Adding an endpoint
 * is its file plus one line here (keep the lines sorted, so parallel additions merge cleanly).
 */
export { audioTranscriptionsEndpoint } from './audio-transcriptions.js';
export { chatCompletionsEndpoint } from './chat-completions.js';
export { modelsEndpoint } from './models.js';
