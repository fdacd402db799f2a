/** `' (did you mean "x"?)'` for the known key closest to a misspelt one, if one is close. */
export function suggestion(key: string, known: Iterable<string>): string {
  const lower = key.toLowerCase();
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    if (other.includes(lower) || lower.includes(other)) return ` (did you mean ${JSON.stringify(candidate)}?)`;
  }
  return '';
}
