/** The UI's copy of the rule ids (see src/rule-ids.ts for why it is a copy) matches the model's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RULE_IDS as MODEL_RULE_IDS } from '@linktrace/model';
import { RULE_IDS } from '../src/rule-ids.js';

describe('rule ids of the findings filter', () => {
  it('are the model RULE_IDS, in the same order', () => {
    assert.deepEqual([...RULE_IDS], [...MODEL_RULE_IDS]);
  });
});
