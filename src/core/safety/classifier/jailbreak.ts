// Jailbreak and prompt-injection detection (Azure's "jailbreak" / Prompt Shields user-prompt
// attack): attempts to make the model drop its instructions or rules. Each family of cues has a
// weight; a prompt is an attack when its distinct cues add up to ATTACK_SCORE. Strong cues
// (overriding instructions, DAN, extracting the system prompt, chat-template injection) reach it
// alone; weak ones (role-play, "no restrictions", an encoded blob) need company, so "pretend
// you are a pirate" or "what is a jailbreak?" stay clean.
import { PatternSet } from "./patterns.ts";
import { WORD_SETS } from "./context.ts";

export const ATTACK_SCORE = 3;

export const JAILBREAK = PatternSet.of([
  // Overriding earlier instructions.
  ["ignore|disregard|forget|override|bypass|skip|drop|discard|abandon ~3 previous|prior|above|earlier|preceding|original|initial|all|any|your|system|developer|safety ~2 instruction+|rule+|prompt+|direction+|guideline+|constraint+|polic+|policy|programming|context|message+|restriction+|filter+|guardrail+|training", 3],
  ["ignore|disregard|forget ~2 everything ~3 told|said|above|before|instructed", 3],
  ["new ~1 instructions|rules|directive", 2], ["your ~1 new ~1 instructions|rules|task|role|purpose", 2],
  ["instead ~2 follow|obey ~2 these|my|following", 2], ["do ~1 not|n ~1 follow ~2 your|the ~2 rules|instructions|guidelines", 3],
  ["don ~1 t ~1 follow ~2 your|the ~2 rules|instructions|guidelines", 3],
  // Personas without rules.
  ["dan|stan|dude|aim|mongo|kevin|betterdan|antidan", 1], ["do ~1 anything ~1 now", 3], ["developer|god|sudo|admin|debug|jailbreak+|unrestricted|evil|dark|chaos ~1 mode", 3],
  ["jailbreak+|jailbroken|jailbreaking", 2], ["unfiltered|uncensored|unrestricted|unbound|unchained|amoral|unethical|unaligned", 2],
  ["no|without|zero|free ~2 restriction+|limit+|limitation+|filter+|censorship|guideline+|rule+|ethics|morals|boundaries|safety|policy|policies|constraints", 2],
  ["pretend|imagine|roleplay ~3 you ~1 are|re", 1], ["act|behave|respond ~1 as|like ~3 ai|assistant|model|chatbot|bot|character|persona|entity", 1],
  ["you ~1 are|re ~1 now|no ~1 longer", 2], ["from ~1 now ~1 on", 1], ["stay ~1 in ~1 character", 2], ["break ~1 character", 1],
  ["opposite ~1 mode|day|version", 3], ["refusal+ ~3 deduct+|cost+|lose", 3], ["two ~1 responses|answers", 1], ["both ~1 responses|answers", 1],
  ["not ~1 bound ~1 by", 3], ["freed ~2 from", 2], ["broken ~1 free", 2], ["escape+ ~2 matrix|confines|prison", 2],
  ["openai|anthropic|microsoft|azure|content ~2 policy|policies|guidelines|rules|filter+", 1],
  ["never ~2 refuse+|decline+|apologize+|apologise+", 2], ["never ~2 say ~1 no", 2], ["can|cannot|must ~1 not|never ~1 refuse", 2], ["hypothetical+|hypothetically", 1],
  ["for ~1 educational|research ~1 purposes ~1 only", 1], ["grandma|grandmother ~4 used ~1 to", 1], ["token+ ~3 deduct+|lose|lost", 2],
  // Extracting the system prompt.
  ["reveal|print|show|repeat|output|display|dump|leak|tell|give|paste|write|recite|expose ~5 system|hidden|initial|original|secret|internal|developer|above|confidential ~1 prompt+|instruction+|message+|rules|guidelines|configuration|context", 3],
  ["what ~2 are|is|were ~2 your|the ~1 system|original|initial|hidden|secret ~1 prompt|instructions|rules", 3],
  ["repeat|print ~3 words|text|everything ~2 above|before", 3], ["instructions|rules|prompt ~3 given|told ~3 before|beginning|start", 2], ["word ~1 for ~1 word|verbatim", 1], ["beginning ~1 with ~1 you ~1 are", 2],
  // Encoded or smuggled payloads.
  ["base64|rot13|rot|hex|hexadecimal|binary|morse|caesar|reversed|backwards ~3 decode+|decoded|encoded|encoding|instructions|message|text|payload|follow|execute", 2],
  ["decode+|decrypt+|translate+ ~4 follow|execute|obey|do|run|answer ~1 it|them|the|what", 2],
  ["system ~1 override|message|notice|instruction", 2], ["admin|administrator|root ~1 override|access|command", 2],
], WORD_SETS);

/** Chat-template control strings pasted into a prompt to forge a system or assistant turn. */
const TEMPLATE_MARKERS = ["<|im_start|>", "<|im_end|>", "<|system|>", "[inst]", "<<sys>>", "<|endoftext|>", "<|eot_id|>", "<|start_header_id|>", "### system", "### instruction", "[system]", "<system>", "</system>"];

export interface JailbreakEvidence {
  score: number;
  cues: string[];
}

/** Scores one window's tokens (normalised text for the template markers). */
export function jailbreakEvidence(normalized: string, words: readonly string[], sentence: readonly number[], encodedBlobs: number): JailbreakEvidence {
  const seen = new Map<string, number>();
  JAILBREAK.scan(words, sentence, (m) => seen.set(m.pattern.source, m.pattern.weight));
  let score = 0;
  const cues: string[] = [];
  for (const [source, weight] of seen) {
    score += weight;
    cues.push(source);
  }
  for (const marker of TEMPLATE_MARKERS) {
    if (normalized.includes(marker)) {
      score += 3;
      cues.push(`template ${marker}`);
      break;
    }
  }
  if (encodedBlobs > 0) {
    score += 1;
    cues.push("encoded blob");
  }
  return { score, cues };
}
