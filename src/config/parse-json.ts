import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import { ConfigError } from '../errors.js';

/**
 * Parses strict JSON. On failure, a second pass with a tolerant parser finds the first error's
 * offset, so the message can name file, line and column (JSON.parse's own text varies by Node).
 */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const errors: ParseError[] = [];
    parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    if (!first) throw new ConfigError(`${file}: not valid JSON: ${(cause as Error).message}`, { cause });
    const { line, column } = lineAndColumn(text, first.offset);
    throw new ConfigError(
      `${file}:${line}:${column}: not valid JSON: ${describeParseError(printParseErrorCode(first.error))}`,
      {
        cause,
        hint: 'JSON needs double quotes around keys and strings, and no trailing commas or comments',
      },
    );
  }
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}

function describeParseError(code: string): string {
  // "PropertyNameExpected" -> "property name expected"
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
