import { type Command, Option } from 'commander';
import { invalid } from '../directory/errors.js';
import { hasControlCharacter } from '../directory/text.js';

/**
 * What the command line accepts, checked before a command acts. The CLI calls the services
 * directly, past the HTTP API's checks, so it refuses the same input itself: text holding a
 * control character (PostgreSQL cannot store a NUL; no flag means one) and numbers beyond what
 * their column or setting holds. Each refusal is an input error (exit 2) naming the flag.
 */

/** A TCP port; 0 asks the system for a free one. */
export const PORT_RANGE = { min: 0, max: 65_535, what: 'a port number' } as const;

/**
 * A commander `preAction` hook: refuses every string option value (its own and its parent
 * commands') and positional argument that holds a control character, before the action opens
 * the database. Numbers and choices were checked as the command line was parsed: a value holding
 * a control character is neither.
 */
export function refuseControlCharacters(_hookedCommand: Command, actionCommand: Command): void {
  for (let command: Command | null = actionCommand; command; command = command.parent) {
    for (const option of command.options) {
      const value: unknown = command.getOptionValue(option.attributeName());
      // Repeatable options (`--domain a --domain b`) hold a list.
      for (const text of [value].flat()) {
        if (typeof text === 'string')
          refuseControlCharacter(text, option.name(), option.long ?? option.flags);
      }
    }
  }
  actionCommand.args.forEach((text, i) => {
    const name = actionCommand.registeredArguments[i]?.name() ?? `${i + 1}`;
    refuseControlCharacter(text, name, `The argument <${name}>`);
  });
}

/**
 * Throws invalid_input when `text` holds a control character. `source` says where the text came
 * from (`--name`, "The password read from standard input"); the text itself is never repeated,
 * since it may be a secret.
 */
export function refuseControlCharacter(text: string, field: string, source: string): void {
  const found = Array.from(text).find(hasControlCharacter);
  if (found !== undefined) {
    throw invalid(field, `${source} holds a control character (${codePoint(found)}): remove it.`);
  }
}

/** `U+0001`: how a control character is named in a message. */
function codePoint(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The whole numbers a flag accepts, and what they are called in its refusal. */
export interface WholeNumberRange {
  min: number;
  max: number;
  /** e.g. "a whole number of days"; default "a whole number". */
  what?: string;
}

/**
 * An option taking a whole number from `min` to `max`. Anything else — a fraction, a sign, a
 * number past the range — is refused while the command line is parsed, before anything starts,
 * with exit 2: `--concurrency must be a whole number from 1 to 100, not "0".`
 */
export function wholeNumberOption(flags: string, description: string, range: WholeNumberRange): Option {
  const option = new Option(flags, description);
  const flag = option.long ?? option.flags;
  return option.argParser((text: string) => {
    const digits = text.trim();
    const value = Number(digits);
    if (!/^\d+$/.test(digits) || value < range.min || value > range.max) {
      throw invalid(
        option.name(),
        `${flag} must be ${range.what ?? 'a whole number'} from ${range.min} to ${range.max}, not "${text}".`,
      );
    }
    return value;
  });
}
