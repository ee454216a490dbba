/** Only paths on our own origin: `//evil.example` and `/\evil.example` are other origins to a browser. */
export function safeReturnTo(value: string | undefined): string {
  if (!value || value.length > 1000) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f || ch === '\\'))
    return '/';
  return value;
}
