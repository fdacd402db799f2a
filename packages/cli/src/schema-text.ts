/** How deep {@link schemaText} spells out nested schemas before writing `...`. */
const MAX_DEPTH = 4;

type Schema = { readonly [keyword: string]: unknown };

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

function joined(parts: unknown, separator: string, depth: number): string | undefined {
  if (!Array.isArray(parts)) return undefined;
  return parts.map((part) => schemaText(part, depth + 1)).join(separator);
}

function objectText(schema: Schema, depth: number): string {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const fields = Object.entries(properties).map(([name, value]) => {
    const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
    return `${key}${required.has(name) ? '' : '?'}: ${schemaText(value, depth + 1)}`;
  });
  if (isSchema(schema.additionalProperties)) fields.push(`[key: string]: ${schemaText(schema.additionalProperties, depth + 1)}`);
  return fields.length === 0 ? '{}' : `{ ${fields.join(', ')} }`;
}

/**
 * A JSON Schema (as zod's `toJSONSchema` writes it) as a short TypeScript-like type for the
 * describe listing: `{ a: number, b?: string }`, `string[]`, `"x" | "y"`. Anything it does not
 * know reads `unknown`; `--json` has the full schema.
 */
export function schemaText(schema: unknown, depth = 0): string {
  if (schema === true || (isSchema(schema) && Object.keys(schema).filter((k) => k !== '$schema').length === 0)) return 'unknown';
  if (!isSchema(schema)) return 'never';
  if (depth >= MAX_DEPTH) return '...';
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  const union = joined(schema.anyOf ?? schema.oneOf, ' | ', depth);
  if (union !== undefined) return union;
  const intersection = joined(schema.allOf, ' & ', depth);
  if (intersection !== undefined) return intersection;
  const type = schema.type;
  if (Array.isArray(type)) return type.map((one) => schemaText({ ...schema, type: one }, depth)).join(' | ');
  switch (type) {
    case 'object':
      return objectText(schema, depth);
    case 'array':
      if (Array.isArray(schema.prefixItems)) return `[${joined(schema.prefixItems, ', ', depth)}]`;
      return `${wrapUnion(schemaText(schema.items, depth + 1))}[]`;
    case 'integer':
    case 'number':
    case 'string':
    case 'boolean':
    case 'null':
      return type;
    default:
      return 'unknown';
  }
}

function wrapUnion(text: string): string {
  return text.includes(' | ') ? `(${text})` : text;
}
