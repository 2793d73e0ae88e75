// Section accessors over a parsed profile: find a section by kind, replace or insert it where libtoxcore would put it.
import type { Profile, ProfileSection } from './format.js';

/** The order libtoxcore 0.2.18 writes sections in; used to place a section that was missing. */
const CANONICAL_ORDER: readonly ProfileSection['kind'][] = [
  'nospamKeys',
  'dht',
  'friends',
  'name',
  'statusMessage',
  'status',
  'groups',
  'unknown', // no fixed place
  'tcpRelays',
  'pathNodes',
  'conferences',
  'end',
];

/** The first section of `kind`, typed, or undefined. */
export function findSection<K extends ProfileSection['kind']>(profile: Profile, kind: K): Extract<ProfileSection, { kind: K }> | undefined {
  return profile.sections.find((s) => s.kind === kind) as Extract<ProfileSection, { kind: K }> | undefined;
}

/**
 * Returns a new section list where `section` is the only one of its kind: it takes the place of the first section of
 * that kind (later duplicates are dropped, because libtoxcore applies them in order and the last would win), or is
 * inserted at its canonical place.
 */
export function withSection(sections: readonly ProfileSection[], section: ProfileSection): ProfileSection[] {
  const at = sections.findIndex((s) => s.kind === section.kind);
  if (at >= 0) return sections.flatMap((s, i) => (i === at ? [section] : s.kind === section.kind ? [] : [s]));
  const rank = CANONICAL_ORDER.indexOf(section.kind);
  const before = sections.findIndex((s) => CANONICAL_ORDER.indexOf(s.kind) > rank);
  const out = sections.slice();
  out.splice(before < 0 ? out.length : before, 0, section);
  return out;
}
