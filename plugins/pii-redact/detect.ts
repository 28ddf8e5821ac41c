/** What was found in one string, and the string with it replaced. */
export interface Redaction {
  text: string;
  emails: number;
  phones: number;
}

export interface RedactOptions {
  emails: boolean;
  phones: boolean;
  emailReplacement: string;
  phoneReplacement: string;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/**
 * Phone-number candidates: an optional `+country`, an optional `(area)`, then digit groups
 * joined by single spaces, dots or dashes. A bare run of digits is left alone unless it
 * starts with `+`: order numbers and ids look exactly like that.
 */
const PHONE = new RegExp(
  [
    String.raw`(?<![\w+@.-])(?:\+\d{1,3}[ .-]?)?`,
    String.raw`(?:\(\d{1,5}\)[ .-]?\d{2,10}(?:[ .-]\d{2,5}){0,4}|\d{2,5}(?:[ .-]\d{2,5}){1,5})`,
    String.raw`(?![\w@]|[.-]\d)`,
    String.raw`|(?<![\w+@])\+\d{7,15}(?!\w)`,
  ].join(''),
  'g',
);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function isPhone(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '').length;
  // E.164 allows at most 15 digits; fewer than 7 is an extension or a number in prose.
  if (digits < 7 || digits > 15) return false;
  return !ISO_DATE.test(candidate) && !IPV4.test(candidate);
}

/** Replaces e-mail addresses first (their digits must not count as phones), then phone numbers. */
export function redact(text: string, opts: RedactOptions): Redaction {
  let emails = 0;
  let phones = 0;
  let out = text;
  if (opts.emails) {
    out = out.replace(EMAIL, () => {
      emails++;
      return opts.emailReplacement;
    });
  }
  if (opts.phones) {
    out = out.replace(PHONE, (match) => {
      if (!isPhone(match)) return match;
      phones++;
      return opts.phoneReplacement;
    });
  }
  return { text: out, emails, phones };
}
