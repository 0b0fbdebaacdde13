// Hate: attacks on people for who they are (a protected group). Most of these phrases only count
// when a group is named in the same sentence (score.ts); slurs count on their own.
import type { CategoryLexicon, Entry } from "./lexicon-types.ts";

/** Slurs and hate slogans: hateful on their own, whoever they are aimed at. */
export const SLURS: readonly Entry[] = [
  ["nigger+|nigga+|kike+|spic+|chink+|gook+|wetback+|raghead+|towelhead+|faggot+|fag|fags|tranny|trannies|dyke+|beaner+|coon+|kyke+|sandnigger+|paki+", 5],
  ["porch ~1 monkey+", 5], ["jungle ~1 bunny|bunnies", 5],
  // Hate slogans and codes: no group needs to be named.
  ["white ~1 power|pride|genocide", 4], ["master ~1 race", 4], ["race ~1 war", 5], ["great ~1 replacement", 4], ["14 ~1 words", 4],
  ["heil ~1 hitler", 5], ["sieg ~1 heil", 5], ["1488|zog", 4], ["blood ~1 and ~1 soil", 4],
];

export const HATE: CategoryLexicon = {
  entries: [
    // Dehumanising predicates.
    ["are|is|were ~2 vermin|cockroaches|roaches|rats|parasites|subhuman|subhumans|animals|savages|filth|scum|disease|plague|cancer|trash|garbage|apes|monkeys|dogs|pigs|insects|leeches|mongrels|degenerates|degenerate|abominations|abomination|perverts|pedophiles|freaks|diseased", 4],
    ["are|is|were ~2 inferior|stupid|lazy|dirty|evil|criminals|thieves|terrorists|rapists|scammers|frauds|liars|thugs|freeloaders|pedophiles|sick|diseased|perverts|useless|worthless|greedy|primitive|backward", 3],
    ["all ~2 are|r ~2 same", 2], ["genetically|naturally|biologically|inherently ~2 less|inferior|stupid|violent|criminal|intelligent", 5],
    ["spread+ ~1 disease+", 3], ["are ~1 too ~1 emotional|stupid|weak|dumb|lazy ~1 to", 3], ["mentally ~1 ill|sick|deranged", 3],
    ["should ~2 be ~1 locked ~1 up", 4], ["prey ~1 on ~1 children|kids", 4],
    ["not ~1 real ~1 people|humans|human", 5], ["less ~1 than ~1 human", 5],
    // Exclusion and calls to harm.
    ["should|must|need|ought|deserve+ ~3 exterminated|eliminated|wiped|gassed|deported|killed|eradicated|purged|sterilized|removed|lynched|shot|hanged|burned|die", 6],
    ["go ~1 back ~2 country|countries|home", 4], ["go ~1 back ~2 where ~2 came|come", 4], ["filthy|dirty|stinking|disgusting ~1 @group", 4], ["do|does ~1 not|n ~1 deserve ~2 rights|live|vote|exist", 5],
    ["don|doesn ~1 t ~1 deserve ~2 rights|live|vote|exist", 5], ["should ~1 not|n ~1 be ~1 allowed ~2 vote|live|work|marry|exist", 4],
    ["shouldn ~1 t ~1 be ~1 allowed ~2 vote|live|work|marry|exist", 4], ["ban ~1 all", 4], ["keep|kept|keeping ~2 out ~1 of ~1 our", 3],
    ["hate|despise|loathe ~2 all", 4], ["i|we ~1 hate|despise|loathe", 4], ["get ~1 rid ~1 of", 5], ["death ~1 to ~1 all", 6], ["death ~1 to", 4],
    ["gas ~1 the|all", 6], ["final ~1 solution", 4], ["ethnic ~1 cleansing", 5], ["exterminate+|eradicate+", 4],
    ["breed ~2 like ~1 rats|rabbits|animals", 4], ["invading|invaders|invasion ~2 our", 3], ["mongoloid|retard+", 3],
    ...SLURS,
  ],
  senses: {
    are: [], // placeholder key so the type has a record; hate relies on the group rule instead
    coon: ["hound", "hounds", "raccoon", "cheese", "skin"],
    spic: ["span"],
    fag: ["end", "ends"],
    dyke: ["dutch", "flood", "levee", "dam"],
    paki: [],
    exterminate: ["termites", "roaches", "rats", "mice", "bedbugs", "bugs", "pests", "ants", "wasps", "infestation", "daleks", "dalek"],
    eradicate: ["polio", "malaria", "disease", "diseases", "poverty", "hunger", "smallpox", "weeds", "bugs", "bug", "virus", "mold", "debt", "corruption", "measles", "pests", "invasive"],
    death: ["penalty", "metal", "star", "valley", "row"],
  },
};
