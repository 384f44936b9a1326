import { describe, expect, it } from 'vitest';
import { imagenetClasses } from '../../../native-models/imagenet-classes.ts';
import {
  backgroundPrompt,
  checkPhrase,
  generalPhrases,
  imagenetBackgrounds,
  imagenetVocabularyFile,
  shapeworldBackgrounds,
  shapeworldWorld,
  vocabularyFor,
} from '../../../electron/core/debugging/vocabulary.ts';

function wellFormed(list: string[], where: string): void {
  expect(list.length, `${where}: non-empty`).toBeGreaterThan(0);
  expect(new Set(list).size, `${where}: phrases unique (${list.join(', ')})`).toBe(list.length);
  for (const p of list) expect(checkPhrase(p), `${where}: ${JSON.stringify(p)}`).toBeNull();
}

describe('background vocabularies (resources/backgrounds, resources/shapeworld)', () => {
  it('the general list has about 100 unique, well-formed phrases', () => {
    const g = generalPhrases();
    expect(g.length).toBeGreaterThanOrEqual(90);
    wellFormed(g, 'general');
  });

  it('every ImageNet class is in exactly one group, with member names that match', () => {
    const names = imagenetClasses().map((c) => c.name);
    const f = imagenetVocabularyFile();
    const seen = new Map<number, string>();
    for (const g of f.groups) {
      expect(g.memberNames.length, g.name).toBe(g.members.length);
      g.members.forEach((m, i) => {
        expect(Number.isInteger(m) && m >= 0 && m < 1000, `${g.name}: index ${m}`).toBe(true);
        expect(seen.get(m), `class ${m} in ${g.name} and ${seen.get(m)}`).toBeUndefined();
        seen.set(m, g.name);
        expect(g.memberNames[i], `${g.name}: member ${m}`).toBe(names[m]);
      });
      wellFormed(g.backgrounds, `group ${g.name}`);
    }
    expect(seen.size).toBe(1000);
    for (const o of f.overrides) {
      expect(o.name).toBe(names[o.classIdx]);
      for (const p of o.add) expect(checkPhrase(p)).toBeNull();
    }
  });

  it('every ImageNet class has a non-empty list of unique, well-formed phrases', () => {
    const lists = imagenetBackgrounds();
    expect(lists).toHaveLength(1000);
    lists.forEach((l, i) => wellFormed(l, `class ${i}`));
    // an override at work: the snow leopard's list has no snow, the husky's no snowstorm
    expect(lists[289]).not.toContain('on snow');
    expect(lists[248]).not.toContain('in a snowstorm');
  });

  it('ShapeWorld lists are every background but the class’s usual ones, from classes.json + backgrounds.json', () => {
    const { classes, backgrounds } = shapeworldWorld();
    const lists = shapeworldBackgrounds();
    expect(lists).toHaveLength(classes.length);
    classes.forEach((c, i) => {
      const expected = backgrounds.filter((b) => !c.usualBackgrounds.includes(b.name)).map((b) => b.phrase);
      expect(lists[i]).toEqual(expected);
      expect(lists[i]!.length).toBe(backgrounds.length - c.usualBackgrounds.length);
      wellFormed(lists[i]!, c.name);
    });
  });

  it('picks the vocabulary from the label space and writes prompts', () => {
    expect(vocabularyFor(shapeworldWorld().classes)).toBe('shapeworld');
    expect(vocabularyFor(imagenetClasses())).toBe('imagenet');
    expect(vocabularyFor([{ name: 'a' }, { name: 'b' }])).toBe('general');
    expect(backgroundPrompt('star', 'on snow')).toBe('a photo of a star on snow');
    expect(backgroundPrompt('umbrella', 'in water')).toBe('a photo of an umbrella in water');
    expect(checkPhrase('On Snow')).toMatch(/lower-case/);
    expect(checkPhrase('on  snow')).toMatch(/single spaces/);
  });
});
