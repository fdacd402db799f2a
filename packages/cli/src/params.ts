import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.js';
import type { StdinReader } from './stdin.js';

/**
 * Params from a positional argument: JSON text, `@file` (JSON read from the file) or `-` (JSON read
 * from stdin, after the password line when `--password-stdin` is given). `undefined` when absent.
 * @throws UsageError when the file cannot be read or the text is not JSON.
 */
export async function readJsonArgument(text: string | undefined, stdin: StdinReader, what = 'params'): Promise<unknown> {
  if (text === undefined) return undefined;
  let json = text;
  let source = 'the argument';
  if (text === '-') {
    json = await stdin.rest();
    source = 'stdin';
  } else if (text.startsWith('@')) {
    const path = text.slice(1);
    source = path;
    try {
      json = await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (json.trim() === '') throw new UsageError(`no ${what} JSON in ${source}`);
  try {
    return JSON.parse(json) as unknown;
  } catch (error) {
    const hint = /^[\s"[{\-\d]/.test(json) || ['true', 'false', 'null'].includes(json.trim()) ? '' : ` (a string needs JSON quotes: '"${json.trim()}"')`;
    throw new UsageError(`invalid ${what} JSON in ${source}: ${(error as Error).message}${hint}`);
  }
}
