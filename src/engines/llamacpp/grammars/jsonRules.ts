// Shared JSON rules (value, string, number, ...) added to a grammar on first use.
// Whitespace is bounded: at most one space, or one newline plus up to 20 indentation
// characters, between tokens, so sampling cannot wander off into endless whitespace.
import { EMPTY, alt, chars, lit, opt, range, rep, seq } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";
import type { GrammarBuilder } from "./grammarBuilder.ts";

export type WhitespaceMode = "bounded" | "compact";

/** Options shared by all JSON grammar builders. */
export type JsonGrammarOptions = {
  /** "bounded" (default): optional single space or newline+indent between tokens; "compact": none. */
  readonly whitespace?: WhitespaceMode;
};

// Bounds that keep numbers finite during sampling (documented in index.ts).
export const MAX_INT_DIGITS = 19;
export const MAX_FRACTION_DIGITS = 16;
export const MAX_EXPONENT_DIGITS = 3;

export const JSON_RULE_NAMES = [
  "ws", "char", "char1", "hex", "string", "number", "integer", "boolean", "null", "value", "object", "array", "member",
];

const DIGIT = range("0", "9");
const HEX = chars([[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]);

export class JsonRules {
  readonly #b: GrammarBuilder;
  readonly #mode: WhitespaceMode;

  constructor(b: GrammarBuilder, opts: JsonGrammarOptions = {}) {
    this.#b = b;
    this.#mode = opts.whitespace ?? "bounded";
  }

  get builder(): GrammarBuilder {
    return this.#b;
  }

  /** Optional whitespace between JSON tokens. */
  ws(): GNode {
    if (this.#mode === "compact") return EMPTY;
    return this.#b.ensure("ws", () => opt(alt(lit(" "), seq(lit("\n"), rep(chars([[0x20, 0x20], [0x09, 0x09]]), 0, 20)))));
  }

  /** `,` with optional whitespace around it. */
  comma(): GNode {
    return seq(this.ws(), lit(","), this.ws());
  }

  hex(): GNode {
    return this.#b.ensure("hex", () => HEX);
  }

  /** One JSON string character: raw (no quote, backslash, control, DEL, surrogate) or an escape. */
  char(): GNode {
    return this.#b.ensure("char", () =>
      alt(chars([[0x20, 0x21], [0x23, 0x5b], [0x5d, 0x7e], [0x80, 0xd7ff], [0xe000, 0x10ffff]]), seq(lit("\\"), alt(chars(ESCAPABLE), seq(lit("u"), rep(this.hex(), 4, 4))))),
    );
  }

  /**
   * Exactly one code point: like `char` but \u escapes of UTF-16 surrogates are excluded,
   * so that counting `char1` repetitions counts code points (minLength/maxLength).
   */
  char1(): GNode {
    return this.#b.ensure("char1", () => {
      const h = this.hex();
      const nonSurrogate = alt(seq(chars([[0x30, 0x39], [0x41, 0x43], [0x45, 0x46], [0x61, 0x63], [0x65, 0x66]]), h, h, h), seq(chars([[0x44, 0x44], [0x64, 0x64]]), range("0", "7"), h, h));
      return alt(chars([[0x20, 0x21], [0x23, 0x5b], [0x5d, 0x7e], [0x80, 0xd7ff], [0xe000, 0x10ffff]]), seq(lit("\\"), alt(chars(ESCAPABLE), seq(lit("u"), nonSurrogate))));
    });
  }

  string(): GNode {
    return this.#b.ensure("string", () => seq(lit('"'), rep(this.char(), 0, null), lit('"')));
  }

  /** A JSON string whose decoded length is within [min, max] code points. */
  stringOfLength(min: number, max: number | null): GNode {
    if (min === 0 && max === null) return this.string();
    return seq(lit('"'), rep(this.char1(), min, max), lit('"'));
  }

  integer(): GNode {
    return this.#b.ensure("integer", () => seq(opt(lit("-")), intPart()));
  }

  number(): GNode {
    return this.#b.ensure("number", () =>
      seq(
        opt(lit("-")),
        intPart(),
        opt(seq(lit("."), rep(DIGIT, 1, MAX_FRACTION_DIGITS))),
        opt(seq(chars([[0x45, 0x45], [0x65, 0x65]]), opt(chars([[0x2b, 0x2b], [0x2d, 0x2d]])), rep(DIGIT, 1, MAX_EXPONENT_DIGITS))),
      ),
    );
  }

  boolean(): GNode {
    return this.#b.ensure("boolean", () => alt(lit("true"), lit("false")));
  }

  null(): GNode {
    return this.#b.ensure("null", () => lit("null"));
  }

  /** Any JSON value. */
  value(): GNode {
    return this.#b.ensure("value", () => alt(this.object(), this.array(), this.string(), this.number(), this.boolean(), this.null()));
  }

  /** Any JSON object. */
  object(): GNode {
    return this.#b.ensure("object", () => {
      const member = this.#b.ensure("member", () => seq(this.string(), this.ws(), lit(":"), this.ws(), this.value()));
      return this.objectOf(member, 0, null);
    });
  }

  /** Any JSON array. */
  array(): GNode {
    return this.#b.ensure("array", () => this.arrayOf([], this.value(), 0, null));
  }

  /** `{` members `}` with between min and max members, each matching `member`. */
  objectOf(member: GNode, min: number, max: number | null): GNode {
    return this.#bracketed("{", "}", [], member, min, max);
  }

  /** `[` prefix items, then between min and max `rest` items `]`. */
  arrayOf(prefix: readonly GNode[], rest: GNode, min: number, max: number | null): GNode {
    return this.#bracketed("[", "]", prefix, rest, min, max);
  }

  #bracketed(open: string, close: string, prefix: readonly GNode[], rest: GNode, min: number, max: number | null): GNode {
    const comma = this.comma();
    let body: GNode;
    if (prefix.length > 0) {
      body = seq(prefix[0], ...prefix.slice(1).map((p) => seq(comma, p)), rep(seq(comma, rest), min, max));
    } else if (max === 0) {
      body = EMPTY;
    } else {
      const first = seq(rest, rep(seq(comma, rest), Math.max(min - 1, 0), max === null ? null : max - 1));
      body = min > 0 ? first : opt(first);
    }
    if (body.kind === "lit" && body.text === "") return seq(lit(open), this.ws(), lit(close));
    // The trailing whitespace belongs to the non-empty body so "{ }" has a single parse.
    const inner = body.kind === "rep" && body.min === 0 && body.max === 1 ? opt(seq(body.item, this.ws())) : seq(body, this.ws());
    return seq(lit(open), this.ws(), inner, lit(close));
  }
}

const ESCAPABLE = [[0x22, 0x22], [0x5c, 0x5c], [0x2f, 0x2f], [0x62, 0x62], [0x66, 0x66], [0x6e, 0x6e], [0x72, 0x72], [0x74, 0x74]] as const;

/** Canonical integer digits: 0, or up to MAX_INT_DIGITS digits without a leading zero. */
function intPart(): GNode {
  return alt(lit("0"), seq(range("1", "9"), rep(DIGIT, 0, MAX_INT_DIGITS - 1)));
}
