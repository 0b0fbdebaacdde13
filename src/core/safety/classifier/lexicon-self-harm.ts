// Self-harm: suicide, self-injury, eating disorders, aimed at oneself.
import type { CategoryLexicon } from "./lexicon-types.ts";

export const SELF_HARM: CategoryLexicon = {
  entries: [
    ["suicide|suicidal", 3, "topic"], ["self ~1 harm|harming|injury|mutilation", 3, "topic"], ["commit+|committing ~1 suicide", 4],
    ["kill+|killing|hurt+|hurting|harm+|harming|cut+|cutting|burn+|burning|starve+|starving|hang+|hanging|drown+|shoot|poison+|stab+ ~1 myself|themselves|yourself|herself|himself|ourselves", 5],
    ["end|take ~1 my|your|his|her|their ~1 life|lives", 5], ["end ~2 it ~1 all", 5], ["end ~1 everything", 4],
    ["want|wanna|wish|ready|going ~2 to ~1 die|disappear", 4], ["want|wanna ~1 die", 4], ["wish ~2 i ~2 dead|never|wasn", 4],
    ["better ~1 off ~1 dead", 5], ["better ~1 off ~1 without ~1 me", 5], ["no ~1 reason ~1 to ~1 live|living", 5], ["no ~1 reason ~1 to ~1 go ~1 on", 5], ["not ~1 worth ~1 living", 5],
    ["nothing ~1 to ~1 live ~1 for", 5], ["can ~1 t ~1 go ~1 on ~1 anymore|living", 4], ["tired ~1 of ~1 living", 4], ["tired ~1 of ~1 being ~1 alive", 4],
    ["slit+|slash+|cut+ ~2 wrist+|arm+|thigh+|veins", 6], ["jump+ ~3 bridge|building|roof|cliff|balcony|window|train", 4],
    ["noose+", 4], ["take|swallow|need ~3 to ~1 die", 5], ["hate ~1 myself", 3], ["i ~1 deserve ~1 to ~1 suffer|die|hurt", 4],
    ["isn|not|never|nothing|no ~2 worth ~2 living|it", 5, "state"], ["any ~1 reason ~1 to ~1 live|living|go", 5, "state"],
    ["want ~2 be ~1 alive|here|around", 4, "state"], ["don ~1 t ~1 want ~2 wake ~1 up", 4, "state"], ["punish+ ~1 myself", 4],
    ["drive|jump|throw ~2 off ~2 cliff|bridge|roof|building|balcony", 4], ["take|swallow ~2 all ~2 pills|tablets|meds|medication", 5],
    ["end ~1 it ~2 tonight|today|now|soon", 5], ["kms|unalive|sewerslide|ctb", 4], ["disappear ~1 forever", 3], ["never ~1 wake ~1 up", 5], ["jump+|fall+ ~3 die|death", 5], ["high ~1 enough ~1 to ~1 kill|die|jump", 4], ["happier|better ~2 if ~1 i ~1 was|were ~1 dead|gone", 5], ["i ~1 am|m ~1 a ~1 burden", 3], ["overdose+|od", 3], ["lethal|fatal ~1 dose+|amount+", 4, "topic"], ["how ~2 many ~3 pills|tablets", 3],
    ["painless|painlessly|quickest|easiest|surest ~2 way+|method+ ~2 to|of ~1 die|dying|death|suicide|end|kill", 7],
    ["suicide ~1 note|letter|plan|method+", 5], ["goodbye ~1 letter|note", 4], ["razor ~1 blade+", 2],
    ["starve+|purge+|purging", 3], ["binge ~1 and ~1 purge", 3], ["make ~1 myself ~1 throw|vomit|puke", 4], ["thinspo|thinspiration|proana|meanspo", 5],
    ["pro ~1 ana|mia", 5], ["stop ~1 eating", 3], ["hide ~2 scars|cuts", 4], ["relapse+ ~2 cutting|self", 4],
  ],
  senses: {
    cut: ["hair", "bangs", "costs", "budget", "corners", "back", "off", "out", "loose", "short", "ties", "slack"],
    hang: ["out", "on", "up", "around", "in", "loose", "tight", "over"],
    burn: ["calories", "fat", "cd", "dvd", "bridges", "rubber", "out", "sun", "candle"],
    starve: ["fire", "flames", "weeds", "cancer", "tumor", "bacteria", "pathogen"],
    shoot: ["photo", "photos", "picture", "foot", "video", "selfie", "portrait", "portraits"],
    purge: ["cache", "cdn", "data", "logs", "queue", "files", "records", "database", "history", "css", "list", "closet", "wardrobe"],
    overdose: ["irony", "sugar", "cuteness", "caffeine", "nostalgia"],
    od: ["green", "olive", "od600", "optical", "density"],
    suicide: ["squad", "mission", "missions", "doors", "door", "king", "lane", "hotline", "prevention", "helpline", "lifeline", "awareness", "rates", "rate", "statistics", "risk", "bombing", "bomber", "bombers", "attack", "attacks", "pact", "watch", "note's"],
    suicidal: ["ideation", "thoughts"],
    jump: ["rope", "start", "starts", "bungee", "parachute", "parachuting", "skydive", "skydiving", "base", "trampoline", "pool", "lake", "river", "scare", "scares", "queue", "line", "ship", "hurdle", "hurdles", "conclusion", "conclusions"],
  },
};
