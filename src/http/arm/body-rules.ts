// Rules every ARM request body meets before a handler reads it (accounts, projects and
// deployments PUT/PATCH, and POST actions): the envelope fields have the types ARM gives them,
// tags stay within Azure's limits, and nothing is nested deep enough to overflow the code that
// stores it (tags nested 10,000 levels deep overflowed JSON.stringify in SqliteStore.putAccount).
//
// Azure's tag limits: at most 50 tags per resource; names up to 512 characters, without
// '<', '>', '%', '&', '\', '?', '/' or control characters; values are strings up to 256 characters.
import { errors } from "../../core/errors.ts";

export const ARM_BODY_LIMITS = {
  tags: 50,
  tagName: 512,
  tagValue: 256,
  /** Longest location name accepted (Azure's are short, e.g. "southcentralus"). */
  location: 90,
  /** JSON nesting levels of a whole body: ARM resources are a few levels deep. */
  depth: 32,
} as const;

const RESERVED_TAG_CHARACTERS = /[<>%&\\?/\u0000-\u001f\u007f]/;

const invalidContent = (message: string, target: string | null = null) => errors.armInvalid("InvalidRequestContent", message, target);

const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

/** Throws the ARM 400 for the first rule `body` breaks; an absent body passes. */
export function checkArmBody(body: Record<string, unknown> | undefined): void {
  if (body === undefined) return;
  checkDepth(body);
  if (body.location !== undefined && body.location !== null) {
    if (typeof body.location !== "string")
      throw invalidContent(`The request content was invalid: 'location' must be a string such as "local", not ${describe(body.location)}.`, "location");
    if (body.location.length > ARM_BODY_LIMITS.location)
      throw errors.armInvalid("LocationNotAvailableForResourceType", `The location '${body.location.slice(0, 40)}…' is longer than ${ARM_BODY_LIMITS.location} characters; use a location name such as "local".`, "location");
  }
  for (const field of ["kind", "name"] as const) {
    const v = body[field];
    if (v !== undefined && v !== null && typeof v !== "string") throw invalidContent(`The request content was invalid: '${field}' must be a string, not ${describe(v)}.`, field);
  }
  for (const field of ["sku", "properties", "identity"] as const) {
    const v = body[field];
    if (v !== undefined && v !== null && (typeof v !== "object" || Array.isArray(v)))
      throw invalidContent(`The request content was invalid: '${field}' must be a JSON object, not ${describe(v)}.`, field);
  }
  if (body.tags !== undefined && body.tags !== null) checkTags(body.tags);
}

export function checkTags(tags: unknown): void {
  if (typeof tags !== "object" || tags === null || Array.isArray(tags))
    throw invalidContent(`The request content was invalid: 'tags' must be a JSON object of tag names to string values, not ${describe(tags)}.`, "tags");
  const entries = Object.entries(tags);
  if (entries.length > ARM_BODY_LIMITS.tags)
    throw errors.armInvalid("InvalidTagsCount", `The resource has ${entries.length} tags; at most ${ARM_BODY_LIMITS.tags} tags are allowed per resource. Remove some, or put several values in one tag as a JSON string.`, "tags");
  const reserved = entries.map(([name]) => name).filter((name) => RESERVED_TAG_CHARACTERS.test(name));
  if (reserved.length)
    throw errors.armInvalid(
      "InvalidTagNameCharacters",
      `The tag names '${reserved.map((n) => n.slice(0, 64)).join(",")}' have reserved characters '<,>,%,&,\\,?,/' or control characters.`,
      "tags",
    );
  for (const [name, value] of entries) {
    if (name.length === 0) throw errors.armInvalid("InvalidTagName", "A tag name is empty; give every tag a name of 1 to 512 characters.", "tags");
    if (name.length > ARM_BODY_LIMITS.tagName)
      throw errors.armInvalid("InvalidTagNameLength", `The tag name '${name.slice(0, 64)}…' exceeds the maximum length of '${ARM_BODY_LIMITS.tagName}' characters.`, `tags.${name.slice(0, 64)}`);
    if (typeof value !== "string")
      throw invalidContent(`The request content was invalid: the value of tag '${name.slice(0, 64)}' must be a string, not ${describe(value)}.`, `tags.${name.slice(0, 64)}`);
    if (value.length > ARM_BODY_LIMITS.tagValue)
      throw errors.armInvalid("InvalidTagValueLength", `The tag value '${value.slice(0, 64)}…' of tag '${name.slice(0, 64)}' exceeds the maximum length of '${ARM_BODY_LIMITS.tagValue}' characters.`, `tags.${name.slice(0, 64)}`);
  }
}

/** Iterative, so a body of any depth is measured without recursion. */
function checkDepth(body: object): void {
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (depth > ARM_BODY_LIMITS.depth)
      throw invalidContent(`The request content was invalid: it is nested more than ${ARM_BODY_LIMITS.depth} levels deep. ARM resource bodies are a few levels deep; check what was sent.`);
    for (const v of Object.values(value)) stack.push([v, depth + 1]);
  }
}
