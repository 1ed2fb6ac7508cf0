/**
 * Characters a terminal acts on rather than shows: C0 controls (escape sequences start with ESC;
 * a carriage return or backspace overwrites what was printed), DEL, C1 controls (U+009B is a
 * one-character CSI), and the bidirectional overrides and isolates that reorder what is shown
 * ("Trojan Source"). The backslash is escaped too, so an escaped name reads one way only.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we escape
const UNSAFE = /[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
};

/**
 * A name (a file path, a symlink target, a host, a tag: anything a manifest or a file system
 * supplies) made safe to print on a terminal: the characters above become C-style escapes
 * (`\n`, `\x1b`, `\u202e`), as `ls -b` shows them. Every command that prints such names to a
 * terminal goes through here; JSON output escapes in its own way.
 */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const named = NAMED[char];
    if (named !== undefined) return named;
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
