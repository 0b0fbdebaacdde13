// Pre-training of the built-in chat model (src/models/builtin/pretrain*.ts) and the shared cache of
// built-in models (src/models/builtin/recipes.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../../src/models/builtin/builder.ts';
import { BUILTIN_MODELS, builtinCacheDir, builtinRecipeHash, ensureBuiltinModel } from '../../src/models/builtin/recipes.ts';
import { metaGet } from '../../src/gguf/format.ts';
import { pretrainLr, pretrainWindows } from '../../src/models/builtin/pretrain-data.ts';
import type { PretrainJob } from '../../src/models/builtin/pretrain-data.ts';
import { DEFAULT_MIX, corpusExamples, factValue, loadCorpus } from '../../src/models/builtin/pretrain-corpus.ts';
import { TINY_CHAT_PRETRAIN, pretrainModel } from '../../src/models/builtin/pretrain.ts';
import { readGguf } from '../../src/gguf/reader.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingot-pretrain-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const take = <T>(it: Iterator<T>, n: number) => Array.from({ length: n }, () => it.next().value as T);

test('the corpus expands deterministically; fact tables give one answer per number', () => {
  const c = loadCorpus();
  const mix = TINY_CHAT_PRETRAIN.mix!;
  const a = take(corpusExamples(c, 5, mix), 200);
  assert.deepEqual(take(corpusExamples(c, 5, mix), 200), a);
  assert.notDeepEqual(take(corpusExamples(c, 6, mix), 200), a);
  for (const conv of a) {
    assert.ok(conv.length >= 2 && conv.at(-1)!.role === 'assistant');
    if (conv[0].role === 'system') assert.ok(c.systems.includes(conv[0].content));
  }
  const facts = a.flatMap((conv) => conv.filter((m) => m.role === 'assistant' && /^The (code|call sign) of (unit|station) \d+ is /.test(m.content)));
  assert.ok(facts.length > 50, `${facts.length} fact answers`);
  for (const f of facts) {
    const [, , kind, n, value] = /^The (code|call sign) of (unit|station) (\d+) is (.+)\.$/.exec(f.content)!;
    assert.equal(value, factValue(c, kind, Number(n)));
  }
  assert.equal(DEFAULT_MIX.facts, 0, 'fact tables are a choice of the tiny-chat recipe');
});

test('learning rate: linear warm-up, cosine down to the floor', () => {
  const job = { ...TINY_CHAT_PRETRAIN, input: '', output: '', vocab: 262 } as PretrainJob;
  assert.equal(pretrainLr(job, 0), job.lr / job.warmup);
  assert.equal(pretrainLr(job, job.warmup - 1), job.lr);
  assert.ok(Math.abs(pretrainLr(job, job.warmup) - job.lr) < 1e-12);
  assert.ok(Math.abs(pretrainLr(job, job.steps) - job.lr * job.lrFloor) < 1e-12);
  assert.ok(pretrainLr(job, 500) < pretrainLr(job, 400));
});

test('pre-training windows: packed conversations, each from its BOS; only assistant turns are trained', () => {
  const job = { ...TINY_CHAT_PRETRAIN, input: '', output: '', vocab: 262 } as PretrainJob;
  const [w] = take(pretrainWindows(job), 1);
  assert.equal(w.tokens.length, 256);
  const starts = [...w.tokens].filter((t, i) => t === 256 && w.tokens[i + 1] === 257).length;
  assert.equal(w.tokens[0], 256);
  assert.ok(starts >= 2, 'more than one conversation in the window');
  for (let i = 0; i < 256; i++) {
    if (!w.mask[i]) continue;
    assert.notEqual(w.tokens[i], 256, 'padding is never trained');
  }
  // Every trained label lies inside an assistant turn: between "assistant\n" and <|im_end|>.
  const text = [...w.tokens].map((t) => (t < 256 ? String.fromCharCode(t) : `<${t}>`)).join('');
  assert.match(text, /<257>assistant\n/);
  assert.ok(w.mask.reduce((x, y) => x + y, 0) > 20);
});

test('a short pre-training run: same bytes twice, metadata kept, token_embd untouched, other weights changed', async () => {
  const base = await buildModel({ shape: 'tiny', seed: 9, type: 'f32', out: join(dir, 'rand.gguf'), name: 'tiny-test' });
  const recipe = { ...TINY_CHAT_PRETRAIN, steps: 12, warmup: 2 };
  const progress: number[] = [];
  const a = await pretrainModel(base.path, join(dir, 'a.gguf'), recipe, (p) => progress.push(p.step));
  const b = await pretrainModel(base.path, join(dir, 'b.gguf'), recipe);
  assert.equal(a.sha256, b.sha256, 'deterministic');
  assert.deepEqual(progress, [12]);
  const [ri, ai] = [await readGguf(base.path), await readGguf(a.path)];
  for (const k of Object.keys(ri.metadata)) assert.deepEqual(ai.metadata[k], ri.metadata[k], k);
  assert.equal(metaGet(ai.metadata, 'ingot.pretrain.steps'), 12);
  assert.match(metaGet(ai.metadata, 'tokenizer.chat_template') as string, /im_start/);
  assert.deepEqual(ai.tensors.map((t) => [t.name, t.dims, t.type]), ri.tensors.map((t) => [t.name, t.dims, t.type]));
  const bytes = async (path: string, name: string) => {
    const t = (await readGguf(path)).tensors.find((x) => x.name === name)!;
    const { open } = await import('node:fs/promises');
    const fh = await open(path, 'r');
    const buf = Buffer.alloc(t.bytes);
    await fh.read(buf, 0, t.bytes, t.offset);
    await fh.close();
    return buf;
  };
  assert.ok((await bytes(a.path, 'token_embd.weight')).equals(await bytes(base.path, 'token_embd.weight')), 'libllama cannot train token_embd');
  assert.ok(!(await bytes(a.path, 'blk.0.attn_q.weight')).equals(await bytes(base.path, 'blk.0.attn_q.weight')));
  assert.ok(!(await bytes(a.path, 'output.weight')).equals(await bytes(base.path, 'output.weight')));
});

test('tiny-chat comes pre-trained from the shared cache: a hard link per data dir, one build', async () => {
  assert.ok(BUILTIN_MODELS['tiny-chat'].pretrain);
  const first = await ensureBuiltinModel('tiny-chat', join(dir, 'd1'));
  const t0 = performance.now();
  const second = await ensureBuiltinModel('tiny-chat', join(dir, 'd2'));
  assert.ok(performance.now() - t0 < 500, 'a link, not a build');
  assert.equal(second.sha256, first.sha256);
  const cached = join(builtinCacheDir(), 'builtin', `${first.sha256}.gguf`);
  const [s1, s2, sc] = await Promise.all([stat(first.path), stat(second.path), stat(cached)]);
  assert.ok(s1.ino === sc.ino && s2.ino === sc.ino, 'hard links to the cached file');
  assert.equal(metaGet((await readGguf(first.path)).metadata, 'ingot.pretrain.steps'), TINY_CHAT_PRETRAIN.steps);
  assert.ok((await readdir(join(builtinCacheDir(), 'builtin'))).includes(`builtin-tiny-chat-${builtinRecipeHash('tiny-chat')}.json`));
});

test('two processes building into an empty cache at once: one builds, both get the same file', async () => {
  const cache = join(dir, 'cache');
  const script = `import { ensureBuiltinModel } from ${JSON.stringify(new URL('../../src/models/builtin/recipes.ts', import.meta.url).href)};
    const r = await ensureBuiltinModel('tiny-embed', process.argv[1]); process.stdout.write(r.sha256);`;
  const run = (models: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, models], { env: { ...process.env, INGOT_CACHE_DIR: cache } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
  const [a, b] = await Promise.all([run(join(dir, 'p1')), run(join(dir, 'p2'))]);
  assert.equal(a, b);
  const files = await readdir(join(cache, 'builtin'));
  assert.deepEqual(files.filter((f) => f.endsWith('.gguf')), [`${a}.gguf`]);
  assert.ok(!files.some((f) => f.endsWith('.lock') || f.startsWith('.build')), files.join(', '));
});
