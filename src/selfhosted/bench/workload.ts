/**
 * What the bench sends: chat requests of a requested prompt length (synthetic or from a JSONL file
 * of real prompts) and output length.
 */
import { readFile } from 'node:fs/promises';
import { PertokenError } from '../../errors.js';
import { seededRandom } from '../../random.js';
import { sampleLength, type LengthSpec } from '../lengths.js';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface WorkItem {
  messages: ChatMessage[];
  /** Requested output tokens (max_tokens). */
  maxTokens: number;
}

/**
 * Three-letter words: with the leading space each is 4 characters and a single token in GPT-style
 * and Llama-3-style BPE vocabularies (and in the demo upstream's 4-characters-per-token count), so
 * N words make an N-token prompt. Drawn at random so that no two prompts share a cacheable prefix.
 */
const WORDS = [
  'the',
  'and',
  'for',
  'are',
  'but',
  'not',
  'you',
  'all',
  'any',
  'can',
  'had',
  'her',
  'was',
  'one',
  'our',
  'out',
  'day',
  'get',
  'has',
  'him',
  'his',
  'how',
  'man',
  'new',
  'now',
  'old',
  'see',
  'two',
  'way',
  'who',
  'boy',
  'did',
  'its',
  'let',
  'put',
  'say',
  'she',
  'too',
  'use',
  'big',
  'end',
  'far',
  'few',
  'got',
  'own',
  'run',
  'set',
  'top',
];

export function syntheticPrompt(tokens: number, random: () => number): string {
  const words: string[] = [];
  for (let i = 0; i < tokens; i++) words.push(WORDS[Math.floor(random() * WORDS.length)] ?? 'the');
  return ' ' + words.join(' ');
}

interface FilePrompt {
  messages: ChatMessage[];
  maxTokens: number | null;
}

function lineError(path: string, line: number, message: string): PertokenError {
  return new PertokenError('invalid_request', `${path}:${line}: ${message}`, { param: '--input' });
}

function isMessage(v: unknown): v is ChatMessage {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as ChatMessage).role === 'string' &&
    typeof (v as ChatMessage).content === 'string'
  );
}

/**
 * A JSONL file, one request per line: {"prompt": "..."} or {"messages": [{"role","content"}]},
 * optionally with "max_tokens" (or "output_tokens") to replay the recorded output length.
 */
export async function loadPromptFile(path: string): Promise<FilePrompt[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PertokenError(
      'invalid_request',
      `cannot read prompts file ${path}: ${err instanceof Error ? err.message : String(err)}`,
      {
        param: '--input',
      },
    );
  }
  const out: FilePrompt[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw lineError(path, i + 1, 'not valid JSON');
    }
    if (typeof value !== 'object' || value === null) throw lineError(path, i + 1, 'expected a JSON object');
    const rec = value as Record<string, unknown>;
    let messages: ChatMessage[];
    if (typeof rec.prompt === 'string') messages = [{ role: 'user', content: rec.prompt }];
    else if (Array.isArray(rec.messages) && rec.messages.length > 0 && rec.messages.every(isMessage))
      messages = rec.messages;
    else throw lineError(path, i + 1, 'expected "prompt" (string) or "messages" ([{role, content}])');
    const limit = rec.max_tokens ?? rec.output_tokens;
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
      throw lineError(path, i + 1, '"max_tokens" must be a positive integer');
    }
    out.push({ messages, maxTokens: typeof limit === 'number' ? limit : null });
  });
  if (out.length === 0)
    throw new PertokenError('invalid_request', `prompts file ${path} has no requests`, { param: '--input' });
  return out;
}

export type OutputSpec = Exclude<LengthSpec, { kind: 'file' }>;

/** An endless, seeded sequence of work items. */
export async function workSource(input: LengthSpec, output: OutputSpec, seed: number): Promise<() => WorkItem> {
  const random = seededRandom(seed);
  if (input.kind === 'file') {
    const prompts = await loadPromptFile(input.path);
    let next = 0;
    return () => {
      const p = prompts[next++ % prompts.length] ?? prompts[0];
      if (p === undefined) throw new PertokenError('internal', 'empty prompt list');
      return { messages: p.messages, maxTokens: p.maxTokens ?? sampleLength(output, random) };
    };
  }
  return () => ({
    messages: [{ role: 'user', content: syntheticPrompt(sampleLength(input, random), random) }],
    maxTokens: sampleLength(output, random),
  });
}
