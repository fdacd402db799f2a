/**
 * JSON text of a value received over the wire. Raw bytes (which ns and rpc deliver as a `Buffer`)
 * are written as `{"$base64":"..."}` instead of Buffer's own `{"type":"Buffer","data":[...]}`.
 * `undefined` (a handler that returned nothing) is written as `null`.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value === undefined ? null : value, replaceBytes, indent) ?? 'null';
}

function replaceBytes(this: unknown, key: string, value: unknown): unknown {
  // JSON.stringify calls Buffer's toJSON before the replacer: look at the holder's own value.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) {
    return { $base64: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') };
  }
  return value;
}
