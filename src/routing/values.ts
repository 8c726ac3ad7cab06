// Values the doctor writes into files a shell (or a shell-like reader) runs later: ifupdown
// `up` hooks (run by /bin/sh -c), RHEL route-IF/rule-IF (word-split by ifup-routes, no quoting
// understood), notify scripts. Every word is checked against what it must be; a word that is not
// plainly an address, a prefix, a number, a keyword, a table name or a Linux interface name is
// refused with the reason, and nothing is written.
import { checkInterfaceName } from '../generate/validate.js';

const PLAIN = /^[A-Za-z0-9_.:/-]+$/;

/** Why a word cannot go into a shell-read file, or null. */
export function unsafeWord(word: string): string | null {
  if (word === '') return 'an empty word';
  if (!PLAIN.test(word)) return `${JSON.stringify(word)} holds characters a shell would interpret (only letters, digits and _ . : / - are written)`;
  if (word.startsWith('-')) return `${JSON.stringify(word)} starts with "-"`;
  return null;
}

/** Why an interface name cannot be written, or null (Linux's rules, plus nothing a shell reads). */
export function unsafeInterface(name: string): string | null {
  const bad = checkInterfaceName(name);
  if (bad) return `interface ${JSON.stringify(name)}: ${bad}`;
  return unsafeWord(name) ? `interface ${JSON.stringify(name)} holds characters a shell would interpret` : null;
}

/** The first reason an `ip rule`/`ip route` argument list cannot be written, or null. */
export function unsafeArgs(words: readonly string[]): string | null {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if ((words[i - 1] === 'dev' || words[i - 1] === 'iif' || words[i - 1] === 'oif') && unsafeInterface(w)) return unsafeInterface(w);
    const bad = unsafeWord(w);
    if (bad) return bad;
  }
  return null;
}

/** A word for a POSIX shell: as is when plain, else single-quoted. */
export function shWord(word: string): string {
  return PLAIN.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
