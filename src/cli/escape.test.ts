import { describe, expect, it } from 'vitest';
import { escapeForTerminal } from './escape.js';

describe('names printed on a terminal', () => {
  it('shows control characters as escapes, so a name cannot drive the terminal', () => {
    expect(escapeForTerminal('evil\u001b]0;pwned\u0007.txt')).toBe('evil\\x1b]0;pwned\\x07.txt');
    expect(escapeForTerminal('two\nlines\rover\ttab\bback')).toBe('two\\nlines\\rover\\ttab\\bback');
    expect(escapeForTerminal('del\u007f c1\u009b[2J')).toBe('del\\x7f c1\\x9b[2J');
    expect(escapeForTerminal('nul\u0000')).toBe('nul\\x00');
  });

  it('shows the bidirectional overrides that reorder what is displayed', () => {
    expect(escapeForTerminal('invoice\u202egpj.exe')).toBe('invoice\\u202egpj.exe');
    expect(escapeForTerminal('a\u2066b\u2069')).toBe('a\\u2066b\\u2069');
  });

  it('escapes the backslash itself, so every escaped name reads one way only', () => {
    expect(escapeForTerminal('a\\x1b')).toBe('a\\\\x1b');
    expect(escapeForTerminal('a\u001b')).not.toBe(escapeForTerminal('a\\x1b'));
  });

  it('leaves ordinary names, spaces and Unicode as they are', () => {
    for (const name of ['photos/2024/beach.jpg', 'with space', 'Ünïcödé/日本語/😀', 'a"quote\'s'])
      expect(escapeForTerminal(name)).toBe(name);
  });
});
