// Context rules: who is speaking about what, to whom, and in which setting. The scorer (score.ts)
// reads these per sentence: intent and instructions raise a harm phrase's severity, a target
// (a person, a protected group, oneself, a minor) decides which category it belongs to and how
// grave it is, negation and benign settings (code, medicine, history, news, fiction, games,
// sports, cooking) lower it.
import { PatternSet, type WordSets } from "./patterns.ts";

export const WORD_SETS: WordSets = {
  person: [
    "you", "u", "ya", "him", "her", "them", "he", "she", "they", "someone", "somebody", "anyone", "people", "person", "man", "woman", "men",
    "women", "kid", "kids", "child", "children", "baby", "babies", "family", "neighbor", "neighbors", "neighbour", "neighbours", "wife",
    "husband", "girlfriend", "boyfriend", "ex", "boss", "coworker", "coworkers", "colleague", "teacher", "teachers", "classmate",
    "classmates", "student", "students", "cop", "cops", "police", "officer", "president", "senator", "everyone", "everybody", "crowd",
    "stranger", "strangers", "guy", "girl", "boy", "mom", "dad", "mother", "father", "brother", "sister", "roommate", "landlord",
    "worshippers", "shoppers", "pedestrians", "protesters", "politician", "judge", "doctor", "nurse", "bully", "principal",
  ],
  group: [
    "jews", "jew", "jewish", "muslims", "muslim", "islam", "christians", "hindus", "sikhs", "buddhists", "atheists", "catholics", "mormons",
    "blacks", "whites", "asians", "mexicans", "latinos", "latinas", "hispanics", "arabs", "africans", "immigrants", "immigrant", "migrants",
    "refugees", "foreigners", "gays", "lesbians", "homosexuals", "transgender", "trans", "queers", "queer", "lgbt", "lgbtq", "bisexuals",
    "women", "females", "disabled", "autistic", "gypsies", "roma", "chinese", "indians", "pakistanis", "natives", "aboriginals",
    "indigenous", "negroes", "semites", "zionists", "palestinians", "israelis", "koreans", "japanese", "filipinos", "haitians", "somalis",
    "nigerians", "syrians", "afghans", "iranians", "russians", "ukrainians", "poles", "irish", "italians", "germans", "whites", "jewry",
    "feminists", "blacks", "minorities", "race", "races", "religion", "religions", "mosque", "mosques", "synagogue", "synagogues",
  ],
  self: ["myself", "me", "my", "mine"],
  minor: [
    "child", "children", "kid", "kids", "minor", "minors", "underage", "teen", "teens", "teenager", "teenagers", "preteen", "preteens",
    "boy", "boys", "girl", "girls", "toddler", "toddlers", "schoolgirl", "schoolgirls", "schoolboy", "schoolboys", "student", "students",
    "daughter", "son", "niece", "nephew", "stepdaughter", "stepson", "infant", "infants", "baby", "babies", "pupil", "pupils", "juvenile",
  ],
  weapon: ["knife", "knives", "gun", "guns", "rifle", "pistol", "machete", "axe", "hammer", "bat", "crowbar", "shotgun", "sword", "blade", "razor"],
  glorify: ["awesome", "loved", "love", "enjoyed", "enjoy", "hilarious", "deserved", "satisfying", "funny", "lol", "lmao", "cool", "amazing", "glorious"],
  negation: [
    "not", "never", "no", "nobody", "nothing", "don", "didn", "doesn", "won", "wouldn", "shouldn", "couldn", "isn", "aren", "wasn",
    "cannot", "t", "without", "stop", "stopped", "refuse", "refused", "against", "prevent", "preventing", "avoid", "avoiding", "nor", "neither",
  ],
};

/** Words of a set, for quick membership tests. */
export const PERSON = new Set(WORD_SETS.person);
export const GROUP_WORDS = new Set(WORD_SETS.group);
export const MINOR_WORDS = new Set(WORD_SETS.minor);
export const NEGATION = new Set(WORD_SETS.negation);
export const SELF = new Set(WORD_SETS.self);
export const WEAPON = new Set(WORD_SETS.weapon);
export const GLORIFY = new Set(WORD_SETS.glorify);

/** Someone saying they mean to do something ("I'm going to", "I want to", "let's"). */
export const INTENT = PatternSet.of([
  ["i|we|imma|ima ~1 want|wanna|need|intend|plan+|planning|decided|gonna|will|ll|shall|going|about|ready|try+|hope|must|should|d|swear", 1],
  ["i|we ~1 am|m|are|re ~1 going|gonna|about|planning|ready|trying", 1], ["imma|ima|lemme", 1], ["let ~1 s|us", 1], ["lets", 1],
  ["tonight|tomorrow ~2 i|we ~1 will|ll|am|m|are", 1], ["my ~1 plan", 1],
], WORD_SETS);

/** Asking for or giving instructions ("how do I", "step by step", "where can I buy"). */
export const HOWTO = PatternSet.of([
  ["how ~1 to", 1], ["how ~1 do|can|could|would|should|does|might|will ~1 i|we|you|one|someone|somebody|people|u", 1],
  ["step ~1 by ~1 step", 1], ["steps|instructions|guide|tutorial|manual|recipe|method|methods|ways|way|tips|plan ~1 for|on|to", 1],
  ["tell|show|teach|explain ~1 me|us ~2 how", 1], ["give ~1 me|us ~2 instructions|steps|recipe|guide|method", 1],
  ["best|easiest|quickest|fastest|simplest|safest|surest|cheapest|painless|effective|efficient|untraceable ~1 way|ways|method|methods|weapon", 1],
  ["where ~1 can|could|do|to|should ~2 buy|get|find|order|obtain|purchase", 1], ["what ~3 need ~2 to", 1],
  ["ingredients|materials|components|parts ~1 for|to|needed", 1], ["how ~1 many|much ~4 would|do|does|will|to|should|need", 1], ["help ~1 me|us ~2 make|build|kill|get|find", 1],
  ["write|give|provide ~2 instructions|tutorial|guide|steps|manual", 1],
], WORD_SETS);

/** Asking for content to be produced ("write…", "describe…"): explicit sexual content on request. */
export const REQUEST = PatternSet.of([["write|describe|generate|create|compose|narrate|roleplay|continue|draw", 1]], WORD_SETS);

/** Multi-word protected-group mentions that single words miss ("black people", "gay men"). */
export const GROUP_PHRASES = PatternSet.of([
  ["black|white|brown|asian|gay|trans|jewish|muslim|disabled|mexican|arab|african|indian|chinese|immigrant|native ~1 people|folks|men|women|guys|kids|families|community|communities|person|persons", 1],
  ["people ~1 of ~1 color", 1], ["those|these|all|the ~1 @group", 1], ["those|these ~1 people", 1],
], WORD_SETS);

/** Benign settings and how much each lowers a harm phrase's severity. */
export type Domain = "computing" | "medicine" | "report" | "fiction" | "sport" | "cooking" | "help";

export const DOMAIN_DAMP: Record<Domain, number> = {
  computing: 3, cooking: 2, sport: 2, fiction: 2, medicine: 2, help: 2, report: 2,
};

export const DOMAIN_WORDS: Record<Domain, readonly string[]> = {
  computing: [
    "process", "processes", "pid", "linux", "server", "servers", "script", "terminal", "command", "bash", "shell", "kernel", "docker",
    "container", "kubernetes", "kubectl", "pod", "thread", "threads", "cpu", "database", "query", "sql", "git", "build", "compile",
    "compiler", "code", "program", "function", "app", "browser", "tab", "deploy", "deployment", "pipeline", "daemon", "api", "debug",
    "python", "javascript", "typescript", "npm", "windows", "macos", "unix", "port", "socket", "cron", "sigterm", "sigkill", "repo",
    "branch", "merge", "cluster", "vm", "cache", "exception", "runtime", "binary", "systemd", "nginx", "postgres", "mysql", "redis",
    "ci", "jenkins", "makefile", "regex", "commit", "executable", "htop", "ps", "grep", "sudo", "chmod", "malware", "antivirus",
    "firewall", "pentest", "penetration", "vulnerability", "exploit", "cve", "payload", "sandbox", "ctf",
  ],
  medicine: [
    "patient", "patients", "symptom", "symptoms", "clinical", "clinician", "diagnosis", "diagnose", "diagnosed", "treatment", "treat",
    "treated", "dose", "dosage", "doses", "doctor", "doctors", "nurse", "nurses", "hospital", "medical", "medication", "medications",
    "medicine", "prescribed", "prescription", "physician", "therapist", "therapy", "psychiatrist", "psychiatric", "toxicity",
    "antidote", "er", "paramedic", "paramedics", "surgery", "surgeon", "autopsy", "pathology", "acetaminophen", "paracetamol",
    "ibuprofen", "naloxone", "narcan", "pharmacist", "pharmacy", "wound", "injury", "injuries", "trauma", "vet", "veterinarian",
    "clinic", "anatomy", "physiology", "gynecologist", "urologist", "std", "stds", "sti", "contraception", "condom", "condoms",
    "pregnancy", "puberty", "menopause", "mammogram", "biopsy", "vaccine", "infection", "chemotherapy", "oncology", "poisoning",
    "overdoses", "liver", "kidney", "icu", "triage", "forensic", "coroner",
  ],
  report: [
    "history", "historical", "historian", "historians", "century", "centuries", "ancient", "medieval", "empire", "dynasty", "revolution",
    "war", "wars", "ww1", "ww2", "wwi", "wwii", "battle", "soldiers", "army", "troops", "nazi", "nazis", "holocaust", "reported",
    "report", "reports", "reporting", "according", "police", "authorities", "officials", "arrested", "charged", "sentenced", "convicted",
    "court", "trial", "jury", "suspect", "suspects", "victim", "victims", "investigation", "investigators", "journalist", "journalists",
    "news", "article", "headline", "headlines", "documentary", "museum", "research", "researchers", "study", "studies", "statistics",
    "essay", "thesis", "lecture", "definition", "law", "laws", "lawyer", "attorney", "prosecutor", "prosecutors", "crime", "crimes",
    "legislation", "policy", "moderation", "moderator", "moderators", "classifier", "dataset", "survivors", "survivor", "memorial",
    "anniversary", "commemorate", "era", "regime", "treaty", "1914", "1918", "1939", "1944", "1945", "bc", "ad", "archaeologists",
    "historically", "wikipedia", "textbook", "professor", "sociology", "psychology", "criminology", "analysis", "analyze", "explain",
    "explains", "explained", "describes", "discusses", "mentioned", "quote", "quoted", "said", "testified", "witness", "witnesses",
  ],
  fiction: [
    "novel", "novels", "story", "stories", "fiction", "fictional", "character", "characters", "villain", "villains", "hero", "heroine",
    "protagonist", "antagonist", "plot", "chapter", "book", "books", "movie", "movies", "film", "films", "episode", "series",
    "screenplay", "scene", "poem", "poetry", "song", "songs", "lyrics", "fantasy", "dragon", "dragons", "zombie", "zombies", "wizard",
    "orc", "orcs", "goblin", "goblins", "game", "games", "gaming", "player", "players", "level", "quest", "npc", "dungeon", "campaign",
    "minecraft", "fortnite", "zelda", "skyrim", "shakespeare", "macbeth", "hamlet", "thriller", "horror", "detective", "mystery",
    "author", "readers", "narrator", "tv", "anime", "manga", "comic", "comics", "sci", "fi", "chess", "paintball", "airsoft", "laser",
    "tag", "rpg", "d&d", "dnd", "dungeons", "pvp", "fps", "spawn", "respawn", "creeper", "creepers", "monster", "monsters",
    "play", "musical", "opera", "impostor", "crewmates", "sniper", "rogue", "backstab", "ballad", "myth", "myths", "mythology", "legend", "legends", "fairy", "tale", "tales", "sherlock",
  ],
  sport: [
    "team", "teams", "match", "striker", "goal", "goals", "league", "coach", "season", "championship", "tournament", "playoff",
    "playoffs", "boxing", "boxer", "fighter", "ufc", "mma", "knockout", "referee", "quarterback", "football", "soccer", "basketball",
    "hockey", "tennis", "rugby", "cricket", "baseball", "pitcher", "batter", "wrestler", "wrestling", "marathon", "gym", "workout",
    "fans", "stadium", "score", "scored", "defense", "defence", "offense", "nba", "nfl", "fifa", "olympics", "sparring", "karate",
    "judo", "fencing", "archery", "hunting", "hunter", "hunters", "deer", "target", "range", "final", "finals", "semifinal",
  ],
  cooking: [
    "recipe", "recipes", "cook", "cooking", "bake", "baking", "oven", "kitchen", "chef", "sauce", "chicken", "beef", "pork", "meat",
    "fish", "onion", "onions", "garlic", "vegetables", "dough", "pan", "skillet", "grill", "roast", "fillet", "dice", "chop", "slice",
    "marinate", "boil", "fry", "lobster", "lobsters", "crab", "steak", "cake", "bread", "salad", "tomatoes", "potatoes", "carrots",
    "minutes", "tablespoon", "teaspoon", "cup", "cups", "flour", "butter", "eggs", "whisk",
  ],
  help: [
    "prevention", "prevent", "hotline", "helpline", "lifeline", "crisis", "counselor", "counseling", "resources", "awareness", "support",
    "supporting", "cope", "coping", "recover", "recovery", "recovering", "signs", "warning", "friend", "friends", "worried", "safe",
    "safety", "therapist", "988", "samaritans", "says", "said", "told", "brother", "sister", "son", "daughter", "partner", "mom", "dad", "professional", "survivors", "loss",
  ],
};

/** word → the benign settings it signals. */
export const DOMAIN_OF = new Map<string, Domain[]>();
for (const [domain, words] of Object.entries(DOMAIN_WORDS) as [Domain, readonly string[]][]) {
  for (const w of words) {
    const list = DOMAIN_OF.get(w) ?? [];
    if (!list.includes(domain)) list.push(domain);
    DOMAIN_OF.set(w, list);
  }
}
