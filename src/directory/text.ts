/**
 * Control characters in text. PostgreSQL cannot store a NUL (SQLite can), and no name, address
 * or setting means one: the API refuses them, and sync takes them out of what Entra sends.
 * Tab, line feed and carriage return are text (a CA certificate has lines); the rest of C0 and
 * DEL are not.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_ALL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** True when `text` holds a control character other than tab, line feed or carriage return. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

/** A one-line name: tabs and line breaks become spaces, other control characters go. */
export function withoutControlCharacters(text: string): string {
  return text.replace(/[\t\n\r]/g, ' ').replace(CONTROL_ALL, '');
}
