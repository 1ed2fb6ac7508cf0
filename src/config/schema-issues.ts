import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { isSecretKey } from './redact.js';

/**
 * Turns zod's validation issues into lines a person can act on: the JSON path, what was wrong,
 * and for a misspelt key the nearest valid one.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): string[] {
  return issues.flatMap((issue) => describeIssue(issue, schema));
}

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType): string[] {
  const where = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, issue.path);
      return issue.keys.map((key) => {
        const at = formatPath([...issue.path, key]);
        const suggestion = suggest(key, known);
        return `${at}: unknown key "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`;
      });
    }
    case 'invalid_type':
      return [`${where}: expected ${issue.expected}, got ${describeValue(issue.input, issue.path)}`];
    case 'invalid_union': {
      const discriminated = issue as { discriminator?: string; options?: unknown[]; input?: unknown };
      if (discriminated.discriminator && discriminated.options) {
        const given = (discriminated.input as Record<string, unknown> | undefined)?.[
          discriminated.discriminator
        ];
        return [
          `${where}: expected one of ${discriminated.options.map((o) => JSON.stringify(o)).join(', ')}, got ${
            given === undefined ? 'nothing' : JSON.stringify(given)
          }`,
        ];
      }
      // The branch whose type matched holds the real problem, e.g. a bad key inside the object form.
      const matched = issue.errors.filter(
        (branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
      );
      if (matched.length === 1) {
        return describeIssues(
          matched[0]!.map(
            (inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as z.core.$ZodIssue,
          ),
          schema,
        );
      }
      const expected = issue.errors.flatMap((branch) =>
        branch
          .filter((inner) => inner.code === 'invalid_type')
          .map((inner) => (inner as { expected: string }).expected),
      );
      const input = (issue as { input?: unknown }).input;
      return [
        `${where}: expected ${unique(expected).join(' or ') || 'another value'}, got ${describeValue(input, issue.path)}`,
      ];
    }
    case 'invalid_value':
      // A schema may explain a refusal itself (an archive storage class); zod's own text is generic.
      if (!issue.message.startsWith('Invalid ')) return [`${where}: ${issue.message}`];
      return [`${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`];
    default:
      return [`${where}: ${issue.message}`];
  }
}

/** "sources[0].path", or "(top level)" for the root object. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`,
    )
    .join('');
}

function suggest(key: string, known: string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(key.toLowerCase(), known);
  const limit = Math.max(2, Math.floor(key.length / 3));
  const found = known.find((k) => k.toLowerCase() === best.toLowerCase()) ?? best;
  if (distance(key.toLowerCase(), best.toLowerCase()) <= limit) return found;
  // A truncated key ("reposit") is closer in intent than in edit distance.
  return key.length >= 3 ? known.find((k) => k.toLowerCase().startsWith(key.toLowerCase())) : undefined;
}

type AnySchema = { _zod: { def: Record<string, unknown> & { type: string } } };

/** The keys an object schema accepts at `path`, looking through arrays, optionals and unions. */
export function knownKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  const candidates = objectsAt(schema as AnySchema, path);
  return unique(candidates.flatMap((object) => Object.keys(object._zod.def.shape as object)));
}

function objectsAt(schema: AnySchema, path: readonly PropertyKey[]): AnySchema[] {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'readonly':
      return objectsAt(def.innerType as AnySchema, path);
    case 'pipe':
      return objectsAt(def.in as AnySchema, path);
    case 'union':
      return (def.options as AnySchema[]).flatMap((option) => objectsAt(option, path));
    case 'array':
      return path.length === 0 ? [] : objectsAt(def.element as AnySchema, path.slice(1));
    case 'object': {
      if (path.length === 0) return [schema];
      const child = (def.shape as Record<string, AnySchema>)[String(path[0])];
      return child ? objectsAt(child, path.slice(1)) : [];
    }
    default:
      return [];
  }
}

function describeValue(value: unknown, path: readonly PropertyKey[]): string {
  if (value === null) return 'null';
  if (isSecretKey(path.at(-1))) return typeof value;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (value === undefined) return 'nothing';
  return `${typeof value} ${String(value)}`;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
